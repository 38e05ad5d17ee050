// The OCI image layout (image-spec's image-layout.md) as `casfs import` and
// `casfs export` see it: descriptors, the manifests and indexes that refer
// to other blobs, and containerd's labels for those references. The store
// itself knows nothing of images; this is all client-side, as in
// containerd's images package.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/labels.h"
#include "core/status.h"
#include "core/store.h"
#include "nlohmann/json.hpp"

namespace casfs::tools::oci {

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";

// The annotation that names (tags) a manifest in index.json; casfs import
// keeps it as a label of the same key, so `casfs ls` finds images by name.
inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
// containerd's GC root label, set on what index.json lists.
inline constexpr std::string_view kGcRootLabel = "containerd.io/gc.root";

inline constexpr std::string_view kLayoutFile = "oci-layout";
inline constexpr std::string_view kIndexFile = "index.json";
inline constexpr std::string_view kLayoutVersion = "1.0.0";

// Manifests and indexes larger than this are refused (containerd and the
// registries cap them at a few MiB too); they are read whole.
inline constexpr int64_t kMaxJsonSize = 16 << 20;
// An index of indexes of ... deeper than this is a loop or an attack.
inline constexpr int kMaxNesting = 16;

struct Descriptor {
  std::string media_type;
  Digest digest = EmptySha256();
  int64_t size = 0;
  std::map<std::string, std::string> annotations;
  bool has_urls = false;     // a foreign layer: its blob may be elsewhere
  nlohmann::json raw;        // as found, so export keeps platform etc.
};

bool IsManifest(std::string_view media_type);
bool IsIndex(std::string_view media_type);

// kInvalidArgument (naming `where`) unless `json` has a string mediaType
// (may be empty only with `allow_no_media_type`), a valid digest and a
// non-negative size.
Result<Descriptor> ParseDescriptor(const nlohmann::json& json, std::string_view where,
                                   bool allow_no_media_type = false);
// {"mediaType", "digest", "size"} plus annotations when there are any.
nlohmann::json DescriptorJson(const Descriptor& descriptor);

// Parses JSON text; kInvalidArgument naming `where` when it is not JSON.
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view where);

// The blobs a manifest (config, then layers) or an index (manifests) names,
// in order; nothing for other media types.
Result<std::vector<Descriptor>> Children(std::string_view media_type, const nlohmann::json& content,
                                         std::string_view where);

// containerd's labels on a parent for its children (images.ChildGCLabels):
// "containerd.io/gc.ref.content.config" for a config, ".m.<i>" for
// manifests, ".l.<i>" for layers, ".<i>" for anything else, counted per
// key. Each value is the child's digest.
Labels ChildGcLabels(const std::vector<Descriptor>& children);

// For a blob with no descriptor around it (export of a digest): the media
// type it declares, else index or manifest by shape; nullopt when it is
// neither.
std::optional<std::string> DetectMediaType(const nlohmann::json& content);

// DIR/blobs/<alg>/<hex>: where image-layout puts a blob.
std::filesystem::path BlobPath(const std::filesystem::path& dir, const Digest& digest);

// The whole content of a store blob of at most `limit` bytes
// (kInvalidArgument when larger).
Result<std::string> ReadStoreBlob(Provider& store, const Digest& digest, int64_t limit);

}  // namespace casfs::tools::oci
