// The state behind an open file or folder of the mount (fuse_file_info::fh).
// Internal to fuse/.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/content.h"
#include "core/writer.h"
#include "fuse/filesystem.h"
#include "fuse/inode_table.h"
#include "fuse/write_slots.h"

namespace casfs::fuse {

// One open(2) of a blob or an ingest. Owns its descriptors: the reader's
// (blobs, and ingests opened for reading) and the engine's writer
// (ingests opened for writing). Fields are set at open and not changed
// after, except `reader` of a write-only ingest handle, opened on the first
// fsync under reader_mu.
struct Filesystem::FileHandle {
  NodeKind kind = NodeKind::kBlob;
  Ino ino = 0;  // kBlob: the number it was opened by (Filesystem::NoteBlobOpened)
  std::string ref;  // kIngest
  std::unique_ptr<BlobReader> reader;
  std::shared_ptr<Writer> writer;
  WriteSlots::Claim claim;
  bool append = false;  // O_APPEND: every write goes to the current end
  std::mutex reader_mu;
};

struct Filesystem::DirEntry {
  std::string name;
  Ino ino = 0;  // fixed folders; 0 for blobs and ingests (numbered by key)
  NodeKey key;
  mode_t type = S_IFREG;
  // Ingests: the status read with the listing, for readdirplus.
  std::optional<IngestStatus> status;
};

// One opendir(3). The listing is taken when reading starts at offset 0 and
// served from here for the following offsets, so a folder that changes
// while it is read is read as one snapshot.
struct Filesystem::DirHandle {
  std::mutex mu;
  bool loaded = false;
  std::vector<DirEntry> entries;
};

}  // namespace casfs::fuse
