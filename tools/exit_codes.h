// The exit status of every casfs command, one table for all of them
// (docs/cli.md, "Exit status"). A script can branch on the number; the
// message on stderr says the same in words.
#pragma once

#include "core/status.h"

namespace casfs::tools {

enum ExitCode : int {
  kExitOk = 0,
  kExitCheckFailed = 1,         // verify found corruption; cat streamed a blob that does not match
  kExitUsage = 2,               // bad arguments: syntax, digest, filter, label, ref (kInvalidArgument)
  kExitNotFound = 3,            // no such blob, ingest or file
  kExitAlreadyExists = 4,       // the ref or blob already exists where a new one was asked for
  kExitBusy = 5,                // the ref is locked by another writer (kUnavailable)
  kExitFailedPrecondition = 6,  // size or digest mismatch at commit; the ingest is kept
  kExitPermission = 7,          // permission denied, reserved label key, read-only store
  kExitIOError = 8,             // an OS error (ENOSPC, EIO, ...), or the mount could not be made
  kExitNotImplemented = 9,      // the engine (or this build) cannot do it
  kExitInternal = 10,           // a bug in casfs
  kExitInterrupted = 130,       // SIGINT or SIGTERM (128 + 2, as shells report it)
};

// The exit code for an error of this kind; kExitOk for kOk.
int ExitCodeFor(ErrorKind kind);
inline int ExitCodeFor(const Status& status) { return ExitCodeFor(status.kind()); }

}  // namespace casfs::tools
