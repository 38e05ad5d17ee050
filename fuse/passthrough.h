// Kernel FUSE passthrough (kernel >= 6.9, libfuse >= 3.17): reads of a
// blob served by the kernel straight from the backing file, with no
// request reaching the daemon. Debian 12's libfuse 3.14 has no API for it;
// this file is the one place that knows, so the rest of fuse/ is written
// to 3.14's capability API and gains passthrough by a rebuild against a
// newer libfuse.
#pragma once

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

namespace casfs::fuse {

// Whether this build can use passthrough at all.
bool PassthroughBuilt();

// At init: asks the kernel for passthrough when both sides have it;
// returns whether it was asked for.
bool WantPassthrough(fuse_conn_info* conn);

}  // namespace casfs::fuse
