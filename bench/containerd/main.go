// ctrbench: the containerd side of the engine benchmark (bench/core). It
// ingests the bytes of a file through containerd's own local store
// (content/local, containerd 1.6) and prints how long the ingest took, as
// one JSON object. The file is read into memory before the clock starts, so
// only the store's work is timed, as in core_bench's own cases.
//
//	ctrbench large ROOT FILE             one blob of the whole file: Writer,
//	                                     Write in 1 MiB chunks, Commit
//	ctrbench small ROOT FILE COUNT SIZE  COUNT blobs of SIZE bytes each (slice
//	                                     i of the file): Writer, Write, Commit
//
// Built by scripts/bench in GOPATH mode, like tests/interop/ctrstore.
package main

import (
	"context"
	// go-digest knows only the algorithms whose hashes are linked in.
	_ "crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/content/local"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const chunk = 1 << 20

func fail(err error) {
	fmt.Fprintf(os.Stderr, "ctrbench: %v\n", err)
	os.Exit(1)
}

// ingest writes data as one blob under ref, as a puller does: a Writer with
// the expected size, sequential writes, Commit with the size.
func ingest(ctx context.Context, cs content.Store, ref string, data []byte) {
	w, err := cs.Writer(ctx, content.WithRef(ref),
		content.WithDescriptor(ocispec.Descriptor{Size: int64(len(data))}))
	if err != nil {
		fail(err)
	}
	for off := 0; off < len(data); off += chunk {
		end := off + chunk
		if end > len(data) {
			end = len(data)
		}
		if _, err := w.Write(data[off:end]); err != nil {
			fail(err)
		}
	}
	if err := w.Commit(ctx, int64(len(data)), ""); err != nil {
		fail(err)
	}
	w.Close()
}

func main() {
	if len(os.Args) < 4 {
		fail(fmt.Errorf("usage: ctrbench large ROOT FILE | small ROOT FILE COUNT SIZE"))
	}
	ctx := context.Background()
	data, err := os.ReadFile(os.Args[3])
	if err != nil {
		fail(err)
	}
	// The root starts empty. Clearing it here, after the data is loaded and
	// just before the clock starts, lets the next writes reuse the page
	// cache the old blob frees (core_bench deletes its own the same way).
	if err := os.RemoveAll(os.Args[2]); err != nil {
		fail(err)
	}
	cs, err := local.NewStore(os.Args[2])
	if err != nil {
		fail(err)
	}

	var start time.Time
	var blobs int
	switch os.Args[1] {
	case "large":
		start = time.Now()
		ingest(ctx, cs, "bench-large", data)
		blobs = 1
	case "small":
		if len(os.Args) != 6 {
			fail(fmt.Errorf("usage: ctrbench small ROOT FILE COUNT SIZE"))
		}
		count, err1 := strconv.Atoi(os.Args[4])
		size, err2 := strconv.Atoi(os.Args[5])
		if err1 != nil || err2 != nil || count < 0 || size <= 0 || count*size > len(data) {
			fail(fmt.Errorf("bad COUNT or SIZE for a file of %d bytes", len(data)))
		}
		start = time.Now()
		for i := 0; i < count; i++ {
			ingest(ctx, cs, "bench-small-"+strconv.Itoa(i), data[i*size:(i+1)*size])
		}
		blobs = count
	default:
		fail(fmt.Errorf("unknown mode %q", os.Args[1]))
	}
	seconds := time.Since(start).Seconds()

	out, _ := json.Marshal(map[string]interface{}{"seconds": seconds, "blobs": blobs})
	os.Stdout.Write(append(out, '\n'))
}
