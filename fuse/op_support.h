// Small helpers shared by the ops_*.cc handlers. Internal to fuse/.
#pragma once

#define FUSE_USE_VERSION 314
#include <fcntl.h>
#include <fuse_lowlevel.h>

#include <cstring>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "core/digest.h"
#include "core/status.h"
#include "fuse/inode_table.h"

namespace casfs::fuse {

// The one place a Status leaves the mount as an errno. Both log the
// handler and line that answered at debug level (`--log-level debug`):
// what a surprising errno in a user's strace needs. (__builtin_FUNCTION
// rather than std::source_location: clang 14, which builds the fuzz
// targets, lacks the latter with libstdc++ 12.)
inline void ReplyStatus(fuse_req_t req, const Status& status, const char* function = __builtin_FUNCTION(),
                        int line = __builtin_LINE()) {
  const int err = ToErrno(status);
  if (err != 0) spdlog::debug("{}:{}: {}: {}", function, line, strerrorname_np(err), status.ToString());
  fuse_reply_err(req, err);
}

inline void ReplyErrno(fuse_req_t req, int err, const char* function = __builtin_FUNCTION(),
                       int line = __builtin_LINE()) {
  if (err != 0) spdlog::debug("{}:{}: {}", function, line, strerrorname_np(err));
  fuse_reply_err(req, err);
}

// The digest a blob node names (its key holds a validated hex).
inline Result<Digest> BlobDigest(Algorithm algorithm, std::string_view hex) {
  std::string text(AlgorithmName(algorithm));
  text += ':';
  text.append(hex);
  return Digest::Parse(text);
}

inline bool OpensForWriting(int flags) {
  return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0;
}

inline bool IsFileKind(NodeKind kind) { return kind == NodeKind::kBlob || kind == NodeKind::kIngest; }

}  // namespace casfs::fuse
