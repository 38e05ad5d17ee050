// ctrstore: a small command line over containerd's own local content store
// (content/local, containerd 1.6), so that the C++ interoperability test can
// make containerd write, read, list, resume and delete in a root that casfs
// also uses. Output is JSON (one object per line where there are several);
// timestamps are printed both as containerd's text and as Unix nanoseconds,
// so the test compares instants, not spellings.
//
// Build (GOPATH mode, no network; see content-store-semantics.md, section 13):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOPROXY=off \
//	  GOCACHE=$(mktemp -d) go build -o ctrstore main.go
//
// Exit status: 0 ok; for a containerd error, a number per kind (below) with
// "ctrstore: <kind>: <error>" on stderr, so the test can check kinds.
package main

import (
	"bytes"
	"context"
	// go-digest knows only the algorithms whose hashes are linked in.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/content/local"
	"github.com/containerd/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

const usage = `usage: ctrstore COMMAND ROOT ARGS...
  write    ROOT REF FILE [--total N] [--expected D]  content.WriteBlob of FILE
  partial  ROOT REF FILE N [--total T]               write the first N bytes, Close (no commit)
  resume   ROOT REF FILE [--total T] [--expected D]  OpenWriter + Copy (resumes at Status().Offset) + Commit
  info     ROOT DIGEST
  read     ROOT DIGEST                               content to stdout (ReadBlob)
  list     ROOT [FILTER...]                          Walk, one JSON object per line
  status   ROOT REF
  statuses ROOT [FILTER...]                          ListStatuses, one JSON object per line
  abort    ROOT REF
  delete   ROOT DIGEST
  time-parse TEXT                                    Go's time.Parse(RFC3339Nano)
  time-format SEC NSEC [TZ]                          Go's Format(RFC3339Nano) of time.Unix(SEC, NSEC), in TZ (default UTC)
`

// Exit codes by containerd error kind.
const (
	exitOther              = 1
	exitUsage              = 64
	exitNotFound           = 2
	exitAlreadyExists      = 3
	exitFailedPrecondition = 4
	exitUnavailable        = 5
	exitInvalidArgument    = 6
)

type infoJSON struct {
	Digest      string `json:"digest"`
	Size        int64  `json:"size"`
	CreatedAt   string `json:"createdat"`
	CreatedAtNs int64  `json:"createdat_ns"`
	UpdatedAt   string `json:"updatedat"`
	UpdatedAtNs int64  `json:"updatedat_ns"`
}

type statusJSON struct {
	Ref         string `json:"ref"`
	Offset      int64  `json:"offset"`
	Total       int64  `json:"total"`
	Expected    string `json:"expected"`
	StartedAt   string `json:"startedat"`
	StartedAtNs int64  `json:"startedat_ns"`
	UpdatedAt   string `json:"updatedat"`
	UpdatedAtNs int64  `json:"updatedat_ns"`
}

type writeJSON struct {
	Digest string `json:"digest"`
	// The offset the writer reported when it opened: what it resumed from.
	OpenedAt int64 `json:"opened_offset"`
}

func toInfo(i content.Info) infoJSON {
	return infoJSON{
		Digest: i.Digest.String(), Size: i.Size,
		CreatedAt: i.CreatedAt.Format(time.RFC3339Nano), CreatedAtNs: i.CreatedAt.UnixNano(),
		UpdatedAt: i.UpdatedAt.Format(time.RFC3339Nano), UpdatedAtNs: i.UpdatedAt.UnixNano(),
	}
}

func toStatus(s content.Status) statusJSON {
	return statusJSON{
		Ref: s.Ref, Offset: s.Offset, Total: s.Total, Expected: s.Expected.String(),
		StartedAt: s.StartedAt.Format(time.RFC3339Nano), StartedAtNs: s.StartedAt.UnixNano(),
		UpdatedAt: s.UpdatedAt.Format(time.RFC3339Nano), UpdatedAtNs: s.UpdatedAt.UnixNano(),
	}
}

func printJSON(v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(append(b, '\n'))
}

func fail(err error) {
	code, kind := exitOther, "unknown"
	switch {
	case errdefs.IsNotFound(err):
		code, kind = exitNotFound, "not-found"
	case errdefs.IsAlreadyExists(err):
		code, kind = exitAlreadyExists, "already-exists"
	case errdefs.IsFailedPrecondition(err):
		code, kind = exitFailedPrecondition, "failed-precondition"
	case errdefs.IsUnavailable(err):
		code, kind = exitUnavailable, "unavailable"
	case errdefs.IsInvalidArgument(err):
		code, kind = exitInvalidArgument, "invalid-argument"
	}
	fmt.Fprintf(os.Stderr, "ctrstore: %s: %v\n", kind, err)
	os.Exit(code)
}

func usageError(msg string) {
	fmt.Fprintf(os.Stderr, "ctrstore: %s\n%s", msg, usage)
	os.Exit(exitUsage)
}

// args splits positional arguments from the --total and --expected options,
// which may come anywhere.
type args struct {
	pos      []string
	total    int64
	expected digest.Digest
}

func parseArgs(raw []string) args {
	var a args
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case "--total", "--expected":
			if i+1 >= len(raw) {
				usageError(raw[i] + " needs a value")
			}
			if raw[i] == "--total" {
				n, err := strconv.ParseInt(raw[i+1], 10, 64)
				if err != nil {
					usageError("bad --total: " + err.Error())
				}
				a.total = n
			} else {
				a.expected = digest.Digest(raw[i+1])
			}
			i++
		default:
			a.pos = append(a.pos, raw[i])
		}
	}
	return a
}

func need(a args, n int) {
	if len(a.pos) != n {
		usageError(fmt.Sprintf("expected %d arguments, got %d", n, len(a.pos)))
	}
}

func openStore(root string) content.Store {
	cs, err := local.NewStore(root)
	if err != nil {
		fail(err)
	}
	return cs
}

func readFile(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	return b
}

func parseDigest(text string) digest.Digest {
	d, err := digest.Parse(text)
	if err != nil {
		fail(fmt.Errorf("%v: %w", err, errdefs.ErrInvalidArgument))
	}
	return d
}

func main() {
	if len(os.Args) < 3 {
		usageError("missing command or root")
	}
	cmd := os.Args[1]
	a := parseArgs(os.Args[2:])
	ctx := context.Background()

	switch cmd {
	case "time-parse":
		need(a, 1)
		t, err := time.Parse(time.RFC3339Nano, a.pos[0])
		if err != nil {
			fail(err)
		}
		printJSON(map[string]int64{"sec": t.Unix(), "nsec": int64(t.Nanosecond())})
		return
	case "time-format":
		if len(a.pos) != 2 && len(a.pos) != 3 {
			usageError("time-format SEC NSEC [TZ]")
		}
		sec, err1 := strconv.ParseInt(a.pos[0], 10, 64)
		nsec, err2 := strconv.ParseInt(a.pos[1], 10, 64)
		if err1 != nil || err2 != nil {
			usageError("bad SEC or NSEC")
		}
		loc := time.UTC
		if len(a.pos) == 3 {
			var err error
			if loc, err = time.LoadLocation(a.pos[2]); err != nil {
				fail(err)
			}
		}
		text, err := time.Unix(sec, nsec).In(loc).MarshalText()
		if err != nil {
			fail(err)
		}
		printJSON(map[string]string{"text": string(text)})
		return
	}

	cs := openStore(a.pos[0])
	switch cmd {
	case "write":
		need(a, 3)
		data := readFile(a.pos[2])
		desc := ocispec.Descriptor{Size: a.total, Digest: a.expected}
		if err := content.WriteBlob(ctx, cs, a.pos[1], bytes.NewReader(data), desc); err != nil {
			fail(err)
		}
		printJSON(writeJSON{Digest: digest.FromBytes(data).String()})

	case "partial":
		need(a, 4)
		data := readFile(a.pos[2])
		n, err := strconv.Atoi(a.pos[3])
		if err != nil || n < 0 || n > len(data) {
			usageError("bad N")
		}
		w, err := content.OpenWriter(ctx, cs, content.WithRef(a.pos[1]),
			content.WithDescriptor(ocispec.Descriptor{Size: a.total}))
		if err != nil {
			fail(err)
		}
		st, _ := w.Status()
		if _, err := w.Write(data[:n]); err != nil {
			fail(err)
		}
		if err := w.Close(); err != nil {
			fail(err)
		}
		printJSON(writeJSON{Digest: w.Digest().String(), OpenedAt: st.Offset})

	case "resume":
		need(a, 3)
		data := readFile(a.pos[2])
		size := a.total
		if size == 0 {
			size = int64(len(data))
		}
		expected := a.expected
		if expected == "" {
			expected = digest.FromBytes(data)
		}
		w, err := content.OpenWriter(ctx, cs, content.WithRef(a.pos[1]),
			content.WithDescriptor(ocispec.Descriptor{Size: a.total}))
		if err != nil {
			fail(err)
		}
		st, _ := w.Status()
		// Copy skips Status().Offset bytes of the reader, writes the rest and
		// commits: containerd's own resume path.
		if err := content.Copy(ctx, w, bytes.NewReader(data), size, expected); err != nil {
			w.Close()
			fail(err)
		}
		printJSON(writeJSON{Digest: w.Digest().String(), OpenedAt: st.Offset})

	case "info":
		need(a, 2)
		info, err := cs.Info(ctx, parseDigest(a.pos[1]))
		if err != nil {
			fail(err)
		}
		printJSON(toInfo(info))

	case "read":
		need(a, 2)
		d := parseDigest(a.pos[1])
		info, err := cs.Info(ctx, d)
		if err != nil {
			fail(err)
		}
		b, err := content.ReadBlob(ctx, cs, ocispec.Descriptor{Digest: d, Size: info.Size})
		if err != nil {
			fail(err)
		}
		if _, err := io.Copy(os.Stdout, bytes.NewReader(b)); err != nil {
			fail(err)
		}

	case "list":
		err := cs.Walk(ctx, func(i content.Info) error {
			printJSON(toInfo(i))
			return nil
		}, a.pos[1:]...)
		if err != nil {
			fail(err)
		}

	case "status":
		need(a, 2)
		st, err := cs.Status(ctx, a.pos[1])
		if err != nil {
			fail(err)
		}
		printJSON(toStatus(st))

	case "statuses":
		sts, err := cs.ListStatuses(ctx, a.pos[1:]...)
		if err != nil {
			fail(err)
		}
		for _, st := range sts {
			printJSON(toStatus(st))
		}

	case "abort":
		need(a, 2)
		if err := cs.Abort(ctx, a.pos[1]); err != nil {
			fail(err)
		}

	case "delete":
		need(a, 2)
		if err := cs.Delete(ctx, parseDigest(a.pos[1])); err != nil {
			fail(err)
		}

	default:
		usageError("unknown command " + cmd)
	}
}
