#include "fuse/passthrough.h"

namespace casfs::fuse {

#if defined(FUSE_CAP_PASSTHROUGH) && FUSE_VERSION >= FUSE_MAKE_VERSION(3, 17)

bool PassthroughBuilt() { return true; }

bool WantPassthrough(fuse_conn_info* conn) {
  if ((conn->capable & FUSE_CAP_PASSTHROUGH) == 0) return false;
  conn->want |= FUSE_CAP_PASSTHROUGH;
  return true;
}

#else

bool PassthroughBuilt() { return false; }

bool WantPassthrough(fuse_conn_info* conn) {
  (void)conn;
  return false;
}

#endif

}  // namespace casfs::fuse
