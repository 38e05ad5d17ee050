// SIGINT and SIGTERM for commands that write: instead of dying mid-write,
// the command notices at its next read or write, leaves the store tidy
// (closes or aborts its ingest) and exits 130.
#pragma once

namespace casfs::tools {

// Installs the handlers (without SA_RESTART, so a read blocked on a pipe
// returns EINTR). Idempotent.
void CatchInterrupts();
// True once SIGINT or SIGTERM arrived after CatchInterrupts.
bool Interrupted();

}  // namespace casfs::tools
