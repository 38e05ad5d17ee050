// Test-only crash points.
//
// The reliability tests must kill the engine at moments that no outside
// observer can time, such as between the fsync of a commit's data and its
// rename into blobs/. The engine calls MaybeInjectFault at those few places;
// a test names one of them in the environment of the process it starts
// (the CLI or the mount daemon), and that process dies there exactly as if
// it had received `kill -9`.
//
//   CASFS_FAULT=commit:after-sync casfs mount -f --root R M
//
// Points (each is named where it is called, with a comment):
//   commit:before-sync   the ingest is complete, nothing synced yet
//   commit:after-sync    data verified and synced, blob not yet renamed in
//   commit:after-rename  blob renamed in, folder not synced, ingest not removed
//
// Without CASFS_FAULT (every real use) the call costs one comparison.
#pragma once

#include <string_view>

namespace casfs {

// Raises SIGKILL in the calling process when the environment variable
// CASFS_FAULT (read once, on the first call) names `point`; the variable
// may list several points separated by commas. Does nothing otherwise.
// Thread-safe.
void MaybeInjectFault(std::string_view point);

}  // namespace casfs
