#include "tools/oci.h"

#include "fmt/format.h"

namespace casfs::tools::oci {
namespace {

bool IsKnownConfig(std::string_view media_type) {
  return media_type == "application/vnd.docker.container.image.v1+json" ||
         media_type == "application/vnd.oci.image.config.v1+json" ||
         media_type == "application/vnd.containerd.container.criu.checkpoint.criu.tar" ||
         media_type == "application/vnd.containerd.container.checkpoint.config.v1+proto";
}

bool IsLayer(std::string_view media_type) {
  if (media_type.starts_with("application/vnd.oci.image.layer.")) return true;
  std::string_view base = media_type.substr(0, media_type.find('+'));
  return base == "application/vnd.docker.image.rootfs.diff.tar" ||
         base == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
         base == "application/vnd.docker.image.rootfs.foreign.diff.tar" ||
         base == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}

Result<std::vector<Descriptor>> DescriptorArray(const nlohmann::json& content, const char* field,
                                                std::string_view where) {
  std::vector<Descriptor> out;
  auto it = content.find(field);
  if (it == content.end()) return out;
  if (!it->is_array()) return Status::InvalidArgument(fmt::format("{}: \"{}\" is not an array", where, field));
  for (size_t i = 0; i < it->size(); ++i) {
    auto descriptor = ParseDescriptor((*it)[i], fmt::format("{}: {}[{}]", where, field, i));
    if (!descriptor.ok()) return descriptor.status();
    out.push_back(std::move(*descriptor));
  }
  return out;
}

}  // namespace

bool IsManifest(std::string_view media_type) { return media_type == kOciManifest || media_type == kDockerManifest; }

bool IsIndex(std::string_view media_type) { return media_type == kOciIndex || media_type == kDockerManifestList; }

Result<Descriptor> ParseDescriptor(const nlohmann::json& json, std::string_view where, bool allow_no_media_type) {
  if (!json.is_object()) return Status::InvalidArgument(fmt::format("{}: a descriptor must be an object", where));
  Descriptor descriptor;
  auto media_type = json.find("mediaType");
  if (media_type != json.end() && media_type->is_string()) {
    descriptor.media_type = media_type->get<std::string>();
  } else if (!allow_no_media_type || media_type != json.end()) {
    return Status::InvalidArgument(fmt::format("{}: the descriptor has no string mediaType", where));
  }
  auto digest = json.find("digest");
  if (digest == json.end() || !digest->is_string()) {
    return Status::InvalidArgument(fmt::format("{}: the descriptor has no string digest", where));
  }
  auto parsed = Digest::Parse(digest->get<std::string>());
  if (!parsed.ok()) return parsed.status().WithContext(where);
  descriptor.digest = *parsed;
  auto size = json.find("size");
  if (size == json.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return Status::InvalidArgument(fmt::format("{}: the descriptor has no valid size", where));
  }
  descriptor.size = size->get<int64_t>();
  auto annotations = json.find("annotations");
  if (annotations != json.end()) {
    if (!annotations->is_object()) return Status::InvalidArgument(fmt::format("{}: annotations must be an object", where));
    for (const auto& [key, value] : annotations->items()) {
      if (!value.is_string()) {
        return Status::InvalidArgument(fmt::format("{}: annotation {} is not a string", where, key));
      }
      descriptor.annotations[key] = value.get<std::string>();
    }
  }
  auto urls = json.find("urls");
  descriptor.has_urls = urls != json.end() && urls->is_array() && !urls->empty();
  descriptor.raw = json;
  return descriptor;
}

nlohmann::json DescriptorJson(const Descriptor& descriptor) {
  nlohmann::json json = descriptor.raw.is_object() ? descriptor.raw : nlohmann::json::object();
  json["mediaType"] = descriptor.media_type;
  json["digest"] = descriptor.digest.ToString();
  json["size"] = descriptor.size;
  if (descriptor.annotations.empty()) {
    json.erase("annotations");
  } else {
    json["annotations"] = descriptor.annotations;
  }
  return json;
}

Result<nlohmann::json> ParseJson(std::string_view text, std::string_view where) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Status::InvalidArgument(fmt::format("{}: not valid JSON", where));
  return json;
}

Result<std::vector<Descriptor>> Children(std::string_view media_type, const nlohmann::json& content,
                                         std::string_view where) {
  if (!content.is_object()) return Status::InvalidArgument(fmt::format("{}: not a JSON object", where));
  std::vector<Descriptor> children;
  if (IsManifest(media_type)) {
    auto config = content.find("config");
    if (config == content.end()) return Status::InvalidArgument(fmt::format("{}: the manifest has no config", where));
    auto parsed = ParseDescriptor(*config, fmt::format("{}: config", where));
    if (!parsed.ok()) return parsed.status();
    children.push_back(std::move(*parsed));
    auto layers = DescriptorArray(content, "layers", where);
    if (!layers.ok()) return layers.status();
    for (auto& layer : *layers) children.push_back(std::move(layer));
  } else if (IsIndex(media_type)) {
    auto manifests = DescriptorArray(content, "manifests", where);
    if (!manifests.ok()) return manifests.status();
    children = std::move(*manifests);
  }
  return children;
}

Labels ChildGcLabels(const std::vector<Descriptor>& children) {
  Labels labels;
  std::map<std::string, unsigned> counts;
  for (const auto& child : children) {
    std::string key;
    if (IsKnownConfig(child.media_type)) {
      key = "containerd.io/gc.ref.content.config";
    } else if (IsManifest(child.media_type)) {
      key = "containerd.io/gc.ref.content.m.";
    } else if (IsLayer(child.media_type)) {
      key = "containerd.io/gc.ref.content.l.";
    } else {
      key = "containerd.io/gc.ref.content.";
    }
    unsigned index = counts[key]++;
    if (index > 0 || key.back() == '.') key += std::to_string(index);
    labels[key] = child.digest.ToString();
  }
  return labels;
}

std::optional<std::string> DetectMediaType(const nlohmann::json& content) {
  if (!content.is_object()) return std::nullopt;
  auto media_type = content.find("mediaType");
  if (media_type != content.end() && media_type->is_string()) {
    std::string declared = media_type->get<std::string>();
    if (IsManifest(declared) || IsIndex(declared)) return declared;
    return std::nullopt;
  }
  // image-spec made mediaType optional in manifests before 1.0.2; go by shape.
  if (content.contains("manifests")) return std::string(kOciIndex);
  if (content.contains("config") && content.contains("layers")) return std::string(kOciManifest);
  return std::nullopt;
}

std::filesystem::path BlobPath(const std::filesystem::path& dir, const Digest& digest) {
  return dir / "blobs" / std::string(digest.algorithm_name()) / digest.hex();
}

Result<std::string> ReadStoreBlob(Provider& store, const Digest& digest, int64_t limit) {
  auto reader = store.ReaderAt(digest);
  if (!reader.ok()) return reader.status();
  int64_t size = (*reader)->Size();
  if (size > limit) {
    return Status::InvalidArgument(
        fmt::format("{} is {} bytes, more than the {} a manifest may have", digest.ToString(), size, limit));
  }
  std::string content(static_cast<size_t>(size), '\0');
  auto n = (*reader)->ReadAt(content.data(), content.size(), 0);
  if (!n.ok()) return n.status();
  content.resize(*n);
  return content;
}

}  // namespace casfs::tools::oci
