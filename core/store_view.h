// Light, read-only views of a store for the mount: blob names and stat data
// without labels, and the backing filesystem's figures. A listing of 100k
// blobs through the mount must cost about one getdents pass, and the
// attributes of one blob one stat(2); Store::Walk and Store::Info read
// every blob's labels as well.
//
// These follow the same rules as Walk and Info (which names are blobs,
// which times are CreatedAt and UpdatedAt); they only leave the labels out.
// Thread-safe (no state).
#pragma once

#include <sys/statvfs.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/layout.h"
#include "core/status.h"
#include "core/timestamp.h"

namespace casfs {

struct BlobStat {
  int64_t size = 0;
  Timestamp created_at;  // mtime
  Timestamp updated_at;  // atime
};

// The hex names of the committed blobs of `algorithm`, unsorted. Names that
// are not valid digests of that algorithm are left out, as Walk does. A
// store that has no such folder yet has no blobs: empty, ok.
Result<std::vector<std::string>> ListBlobHexes(const Layout& layout, Algorithm algorithm);

// Size and times of one blob, as Info reports them. kNotFound if absent.
Result<BlobStat> StatBlob(const Layout& layout, const Digest& digest);

// statvfs(2) of the filesystem that holds the root.
Result<struct statvfs> StatStoreFilesystem(const Layout& layout);

}  // namespace casfs
