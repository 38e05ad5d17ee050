// The content store's interfaces, in the shape of containerd's content
// package: small parts (Provider, InfoProvider, Manager, IngestManager,
// Ingester) composed into Store, so a test double or another backend can
// implement just one part. The conformance suite (tests/conformance) holds
// every implementation to the same contract.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/content.h"
#include "core/writer.h"

namespace casfs {

class Provider {
 public:
  virtual ~Provider() = default;
  // kInvalidArgument for a bad digest (never: a Digest is valid), kNotFound
  // when the blob does not exist.
  virtual Result<std::unique_ptr<BlobReader>> ReaderAt(const Digest& digest) = 0;
};

class InfoProvider {
 public:
  virtual ~InfoProvider() = default;
  // kNotFound when the blob does not exist.
  virtual Result<BlobInfo> Info(const Digest& digest) = 0;
};

class Manager : public InfoProvider {
 public:
  // Changes labels. `fieldpaths` as containerd: none or "labels" replaces
  // the whole set with info.labels; "labels.KEY" sets KEY to
  // info.labels[KEY], or deletes it when absent there or empty. Any other
  // path is kInvalidArgument, checked before anything changes. Labels are
  // validated (ValidateLabel). kNotFound if the blob does not exist. Sets
  // UpdatedAt (atime) to now, keeps CreatedAt. Returns the new info.
  virtual Result<BlobInfo> Update(const BlobInfo& info,
                                  const std::vector<std::string>& fieldpaths) = 0;

  // Calls `fn` for every committed blob matching `filters` (containerd's
  // filter language; fields `digest` and `labels.KEY`), in lexical order of
  // algorithm then hex. Filters are parsed before the disk is touched
  // (kInvalidArgument). A store that has never committed has no blobs: ok,
  // no calls (containerd fails here). Names that are not valid digests are
  // skipped. A non-ok status from `fn` stops the walk and is returned.
  virtual Status Walk(const std::function<Status(const BlobInfo&)>& fn,
                      const std::vector<std::string>& filters = {}) = 0;

  // Removes the blob and its labels. A missing blob is success (containerd).
  // Open readers keep working.
  virtual Status Delete(const Digest& digest) = 0;
};

class IngestManager {
 public:
  virtual ~IngestManager() = default;
  // kNotFound if the ref has no ingest.
  virtual Result<IngestStatus> GetStatus(const std::string& ref) = 0;
  // Every ingest matching `filters` (field `ref`). Folders that are not
  // complete ingests (being created or removed, debris) are skipped, not
  // fatal (containerd fails the whole call).
  virtual Result<std::vector<IngestStatus>> ListStatuses(
      const std::vector<std::string>& filters = {}) = 0;
  // Removes the ingest. A missing one is success (containerd). Unlike
  // containerd, an ingest whose writer is open is kUnavailable (waits for
  // the lock as a writer would).
  virtual Status Abort(const std::string& ref) = 0;
};

struct WriterOptions {
  std::string ref;                 // required; empty is kInvalidArgument
  int64_t total = 0;               // expected size, 0 if unknown
  std::optional<Digest> expected;  // if set and committed: kAlreadyExists
  // How long to wait for a ref locked by another writer before
  // kUnavailable. containerd waits about half a second.
  std::chrono::milliseconds lock_wait{500};
};

class Ingester {
 public:
  virtual ~Ingester() = default;
  // Starts or resumes the ingest of `options.ref` (see LocalStore for what
  // resume keeps and when it starts over). kUnavailable when another writer
  // holds the ref; kAlreadyExists when options.expected is committed.
  virtual Result<std::unique_ptr<Writer>> OpenWriter(const WriterOptions& options) = 0;
};

class Store : public Manager, public Provider, public IngestManager, public Ingester {};

}  // namespace casfs
