#include "tools/exit_codes.h"

namespace casfs::tools {

int ExitCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk: return kExitOk;
    case ErrorKind::kInvalidArgument: return kExitUsage;
    case ErrorKind::kNotFound: return kExitNotFound;
    case ErrorKind::kAlreadyExists: return kExitAlreadyExists;
    case ErrorKind::kUnavailable: return kExitBusy;
    case ErrorKind::kFailedPrecondition: return kExitFailedPrecondition;
    case ErrorKind::kPermissionDenied:
    case ErrorKind::kReadOnly: return kExitPermission;
    case ErrorKind::kIOError: return kExitIOError;
    case ErrorKind::kNotImplemented: return kExitNotImplemented;
    case ErrorKind::kInternal: return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace casfs::tools
