#include "core/layout.h"

#include "core/digester.h"

namespace casfs {

std::filesystem::path Layout::BlobsDir() const { return root_ / "blobs"; }

std::filesystem::path Layout::AlgorithmDir(Algorithm algorithm) const {
  return BlobsDir() / std::string(AlgorithmName(algorithm));
}

std::filesystem::path Layout::BlobPath(const Digest& digest) const {
  return AlgorithmDir(digest.algorithm()) / digest.hex();
}

std::filesystem::path Layout::IngestRoot() const { return root_ / "ingest"; }

std::string Layout::IngestFolderName(std::string_view ref) {
  // containerd names the folder after the raw ref bytes, unescaped and
  // unnormalised, so any byte string maps to one safe file name.
  return DigestOf(Algorithm::kSha256, ref.data(), ref.size()).hex();
}

std::filesystem::path Layout::IngestDir(std::string_view ref) const {
  return IngestRoot() / IngestFolderName(ref);
}

std::filesystem::path Layout::LabelsDir() const { return root_ / "labels"; }

std::filesystem::path Layout::LabelsAlgorithmDir(Algorithm algorithm) const {
  return LabelsDir() / std::string(AlgorithmName(algorithm));
}

std::filesystem::path Layout::LabelOverflowPath(const Digest& digest) const {
  return LabelsAlgorithmDir(digest.algorithm()) / digest.hex();
}

}  // namespace casfs
