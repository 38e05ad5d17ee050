// Entries in a store's blobs/<alg>/ folders that are not blobs.
//
// Walk, Info and ReaderAt ignore them (a name that is no digest of its
// folder's algorithm, or something that is not a regular file, such as a
// symlink planted in place of a blob), so nothing would ever show them.
// `casfs verify` reports them with this.
#pragma once

#include <filesystem>
#include <vector>

#include "core/layout.h"
#include "core/status.h"

namespace casfs {

struct StrayEntry {
  enum class Kind {
    kMisnamed,  // the name is no digest of the folder's algorithm
    kNotAFile,  // a well-formed name, but a symlink, folder, fifo...
  };
  std::filesystem::path path;
  Kind kind;
};

// Every stray entry under `layout`'s blobs/, sorted by path. A missing
// blobs/ (or algorithm folder) has none.
Result<std::vector<StrayEntry>> FindStrays(const Layout& layout);

}  // namespace casfs
