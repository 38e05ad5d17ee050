// Where a blob's labels live on disk (internal to the engine; the format
// and the rules are in core/labels.h): the `user.casfs.labels` attribute of
// the blob file, or the overflow file labels/<alg>/<hex> when the backing
// filesystem refuses the attribute.
//
// Concurrency: reads take no lock (each place is replaced atomically, and
// readers prefer the attribute, which writers fill first when moving back
// from overflow and empty last when moving to it). Changes of one blob's
// labels are serialised across processes by an exclusive flock(2) on the
// folder blobs/<alg>/ (Lock below): label changes are short, rare next to
// reads, and need no lock file of their own. The caller holds that lock
// around read-modify-write sequences and around the commit's check, labels
// and rename.
#pragma once

#include <optional>
#include <string>

#include "core/digest.h"
#include "core/labels.h"
#include "core/layout.h"
#include "core/posix.h"
#include "core/status.h"

namespace casfs {

class LabelStore {
 public:
  explicit LabelStore(const Layout* layout) : layout_(layout) {}

  // Exclusive lock on label changes of `algorithm`'s blobs. Blocks (label
  // changes hold it briefly). kNotFound if blobs/<alg>/ does not exist
  // (then no blob of that algorithm does). Released when the fd closes.
  Result<posix::UniqueFd> Lock(Algorithm algorithm) const;

  // The labels of the blob whose file is open as `fd`: the attribute if
  // present, else the overflow file, else none.
  Result<Labels> Read(int fd, const Digest& digest) const;
  // The same by path, without opening the blob (for Walk).
  Result<Labels> ReadAt(const std::filesystem::path& blob, const Digest& digest) const;

  // Replaces the whole set (empty clears it). Tries the attribute; when the
  // filesystem refuses it, writes the overflow file (durably) and then
  // drops the attribute; after a successful attribute write, drops any
  // overflow file. Works on a read-only (0444) file of ours without root:
  // the owner's write bit is added around the attribute change.
  Status Write(int fd, const Digest& digest, const Labels& labels) const;

  // Pieces of Write for the commit, which must be able to undo them while
  // the blob is not yet renamed in.
  //
  // Sets the attribute to `labels` (an empty set is written too: it hides
  // any stale overflow file). kIOError with the kernel's errno when the
  // filesystem refuses it; IsOverflowErrno tells whether the overflow file
  // is the answer.
  Status SetAttribute(int fd, const Labels& labels) const;
  Status RemoveAttribute(int fd) const;
  // The overflow file: its raw content (nullopt if absent), a durable
  // atomic write, a removal (absent is fine), a restore to a prior content.
  Result<std::optional<std::string>> ReadOverflowRaw(const Digest& digest) const;
  Status WriteOverflow(const Digest& digest, const Labels& labels) const;
  Status RemoveOverflow(const Digest& digest) const;
  Status RestoreOverflow(const Digest& digest, const std::optional<std::string>& raw) const;

  // ENOSPC, E2BIG, ERANGE, ENOTSUP: the attribute does not fit or cannot
  // exist here.
  static bool IsOverflowErrno(const Status& status);

 private:
  // Runs `change` on `fd`; if it is refused with EACCES because the file is
  // read-only to its owner (a blob, when not root), retries once with the
  // owner's write bit added and restores the mode after.
  template <typename F>
  Status WithOwnerWrite(int fd, F&& change) const;

  const Layout* layout_;
};

}  // namespace casfs
