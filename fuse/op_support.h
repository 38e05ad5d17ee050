// Small helpers shared by the ops_*.cc handlers. Internal to fuse/.
#pragma once

#define FUSE_USE_VERSION 314
#include <fcntl.h>
#include <fuse_lowlevel.h>

#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "core/digest.h"
#include "core/status.h"
#include "fuse/inode_table.h"

namespace casfs::fuse {

// The one place a Status leaves the mount as an errno.
inline void ReplyStatus(fuse_req_t req, const Status& status) {
  if (!status.ok()) SPDLOG_DEBUG("reply {}: {}", ToErrno(status), status.ToString());
  fuse_reply_err(req, ToErrno(status));
}

inline void ReplyErrno(fuse_req_t req, int err) { fuse_reply_err(req, err); }

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
