// Every path of a store root. Nothing else in casfs builds store paths.
//
//   <root>/blobs/<alg>/<hex>                 committed blob (containerd)
//   <root>/ingest/<sha256(ref)>/             one ingest (containerd)
//       ref data startedat updatedat [total] containerd's files
//       casfs.expected                       expected digest (casfs)
//       casfs.labels                         staged labels (casfs)
//       casfs.hashstate                      checkpoint of the running hash (casfs)
//   <root>/labels/<alg>/<hex>                label overflow file (casfs)
//
// containerd reads only its own files and removes ingest folders whole, so
// the casfs files inside them are invisible to it and go away with them.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/digest.h"

namespace casfs {

class Layout {
 public:
  explicit Layout(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }

  std::filesystem::path BlobsDir() const;
  std::filesystem::path AlgorithmDir(Algorithm algorithm) const;
  std::filesystem::path BlobPath(const Digest& digest) const;

  std::filesystem::path IngestRoot() const;
  // The folder name of a ref: lowercase hex sha256 of its raw bytes.
  static std::string IngestFolderName(std::string_view ref);
  std::filesystem::path IngestDir(std::string_view ref) const;

  std::filesystem::path LabelsDir() const;
  std::filesystem::path LabelsAlgorithmDir(Algorithm algorithm) const;
  std::filesystem::path LabelOverflowPath(const Digest& digest) const;

  // Names of the files in an ingest folder.
  static constexpr std::string_view kRefFile = "ref";
  static constexpr std::string_view kDataFile = "data";
  static constexpr std::string_view kStartedAtFile = "startedat";
  static constexpr std::string_view kUpdatedAtFile = "updatedat";
  static constexpr std::string_view kTotalFile = "total";
  static constexpr std::string_view kExpectedFile = "casfs.expected";
  static constexpr std::string_view kStagedLabelsFile = "casfs.labels";
  static constexpr std::string_view kHashStateFile = "casfs.hashstate";

  // The xattr holding a blob's labels.
  static constexpr std::string_view kLabelsXattr = "user.casfs.labels";

 private:
  std::filesystem::path root_;
};

}  // namespace casfs
