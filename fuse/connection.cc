// The kernel connection's capabilities, negotiated at FUSE_INIT through
// libfuse 3.14's capability API (conn->capable, conn->want).
#include <spdlog/spdlog.h>

#include "fuse/filesystem.h"
#include "fuse/passthrough.h"

namespace casfs::fuse {

void Filesystem::Init(fuse_conn_info* conn) {
  auto want = [conn](unsigned capability) {
    if (conn->capable & capability) conn->want |= capability;
  };
  auto refuse = [conn](unsigned capability) { conn->want &= ~capability; };

  // Blob reads answered from the backing descriptor: libfuse splices the
  // file's pages into the reply (SPLICE_WRITE: replies written to the
  // device by splice; SPLICE_MOVE: pages moved rather than copied).
  want(FUSE_CAP_SPLICE_WRITE);
  want(FUSE_CAP_SPLICE_MOVE);
  // Write requests are not spliced in: their bytes must be hashed, so they
  // have to reach user space anyway, and a pipe in between only adds a copy.
  refuse(FUSE_CAP_SPLICE_READ);
  // The contract needs every returned write(2) in st_size and
  // user.casfs.digest: nothing may wait in a kernel write-back cache.
  refuse(FUSE_CAP_WRITEBACK_CACHE);
  // O_TRUNC arrives with open (one request, and the ingest's restart is
  // done by the same writer that the handle then uses).
  want(FUSE_CAP_ATOMIC_O_TRUNC);
  // Size and mtime from a refresh are compared with the cached ones, and a
  // folder's readdir cache is checked against its mtime.
  want(FUSE_CAP_AUTO_INVAL_DATA);
  want(FUSE_CAP_ASYNC_READ);
  want(FUSE_CAP_PARALLEL_DIROPS);
  // `ls -l` gets attributes with the names; plain listings (find) do not
  // pay for them.
  want(FUSE_CAP_READDIRPLUS);
  want(FUSE_CAP_READDIRPLUS_AUTO);
  // No POSIX ACLs: the kernel would cache "none" per inode, but it drops
  // that cache with every attribute refresh (readdirplus, revalidation),
  // so it would only add work.
  refuse(FUSE_CAP_POSIX_ACL);
  // Not implemented here: the kernel keeps such locks locally.
  refuse(FUSE_CAP_POSIX_LOCKS);
  refuse(FUSE_CAP_FLOCK_LOCKS);
  bool passthrough = WantPassthrough(conn);

  spdlog::info("fuse: protocol {}.{}, max_write {} KiB, max_readahead {} KiB, splice {}, "
               "passthrough {}",
               conn->proto_major, conn->proto_minor, conn->max_write / 1024, conn->max_readahead / 1024,
               (conn->want & FUSE_CAP_SPLICE_WRITE) ? "on" : "off",
               passthrough ? "on" : (PassthroughBuilt() ? "not offered by the kernel" : "not built"));
}

}  // namespace casfs::fuse
