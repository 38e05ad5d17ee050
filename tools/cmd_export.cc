// casfs export DIR: images from the store into an OCI image layout folder
// that skopeo, oras, buildah or containerd can read.
#include <fcntl.h>

#include <filesystem>
#include <set>
#include <vector>

#include "CLI/CLI.hpp"
#include "core/digester.h"
#include "core/posix.h"
#include "fmt/format.h"
#include "tools/args.h"
#include "tools/cli.h"
#include "tools/copy.h"
#include "tools/exit_codes.h"
#include "tools/format.h"
#include "tools/image_list.h"
#include "tools/oci.h"

namespace casfs::tools {
namespace {

constexpr const char* kExportCommand = "export";

struct ExportArgs {
  std::string dir;
  std::vector<std::string> tags;  // NAME=DIGEST
  std::vector<std::string> filters;
};

class Exporter {
 public:
  Exporter(LocalStore& store, std::filesystem::path dir) : store_(store), dir_(std::move(dir)) {}

  // Writes the blob and everything it names.
  Status Export(const oci::Descriptor& descriptor, int depth) {
    if (depth > oci::kMaxNesting) {
      return Status::InvalidArgument(fmt::format("{}: more than {} levels of nested indexes",
                                                 descriptor.digest.ToString(), oci::kMaxNesting));
    }
    if (!done_.insert(descriptor.digest.ToString()).second) return Status::Ok();
    CASFS_RETURN_IF_ERROR(CopyBlob(descriptor.digest));
    if (!oci::IsManifest(descriptor.media_type) && !oci::IsIndex(descriptor.media_type)) return Status::Ok();
    auto content = oci::ReadStoreBlob(store_, descriptor.digest, oci::kMaxJsonSize);
    if (!content.ok()) return content.status();
    auto json = oci::ParseJson(*content, descriptor.digest.ToString());
    if (!json.ok()) return json.status();
    auto children = oci::Children(descriptor.media_type, *json, descriptor.digest.ToString());
    if (!children.ok()) return children.status();
    for (const auto& child : *children) {
      Status status = Export(child, depth + 1);
      if (status.IsNotFound() && child.has_urls) continue;  // a foreign layer need not be in the layout
      CASFS_RETURN_IF_ERROR(status);
    }
    return Status::Ok();
  }

  // A descriptor for a blob the user named: its media type from its content.
  Result<oci::Descriptor> Describe(const Digest& digest) {
    auto content = oci::ReadStoreBlob(store_, digest, oci::kMaxJsonSize);
    if (!content.ok()) return content.status();
    auto json = oci::ParseJson(*content, digest.ToString());
    std::optional<std::string> media_type;
    if (json.ok()) media_type = oci::DetectMediaType(*json);
    if (!media_type) {
      return Status::InvalidArgument(digest.ToString() + " is not an image manifest or index");
    }
    oci::Descriptor descriptor;
    descriptor.media_type = *media_type;
    descriptor.digest = digest;
    descriptor.size = static_cast<int64_t>(content->size());
    return descriptor;
  }

 private:
  // Copies a store blob to DIR/blobs/<alg>/<hex> through a temporary file,
  // hashing as it goes: a corrupt store blob must not become a layout blob.
  // One already there with the right size is kept.
  Status CopyBlob(const Digest& digest) {
    std::filesystem::path target = oci::BlobPath(dir_, digest);
    auto reader = store_.ReaderAt(digest);
    if (!reader.ok()) return reader.status();
    int64_t size = (*reader)->Size();
    if (auto st = posix::Stat(target); st.ok() && st->st_size == size) return Status::Ok();
    CASFS_RETURN_IF_ERROR(posix::MakeDirs(target.parent_path()));
    std::filesystem::path temp = target;
    temp += ".casfs-tmp";
    auto out = posix::Open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!out.ok()) return out.status();
    std::vector<char> buffer(kCopyChunk);
    Digester digester(digest.algorithm());
    int64_t offset = 0;
    Status status = Status::Ok();
    while (status.ok()) {
      auto n = (*reader)->ReadAt(buffer.data(), buffer.size(), offset);
      if (!n.ok()) {
        status = n.status();
        break;
      }
      if (*n == 0) break;
      digester.Update(buffer.data(), *n);
      status = posix::PwriteFull(out->get(), buffer.data(), *n, offset);
      offset += static_cast<int64_t>(*n);
    }
    if (status.ok() && digester.Current() != digest) {
      status = Status::FailedPrecondition(fmt::format("store blob {} is corrupt: its content hashes to {}",
                                                      digest.ToString(), digester.Current().ToString()));
    }
    if (status.ok()) status = posix::Fsync(out->get());
    if (status.ok()) status = out->Close();
    if (status.ok()) status = posix::Rename(temp, target);
    if (!status.ok()) (void)posix::Unlink(temp, /*missing_ok=*/true);
    return status;
  }

  LocalStore& store_;
  std::filesystem::path dir_;
  std::set<std::string> done_;
};

struct Root {
  oci::Descriptor descriptor;
  std::string name;
};

// index.json: the existing entries (if the layout exists) that no new
// entry replaces, then the new ones. An entry is replaced by one of the
// same name, or, unnamed, by the same digest.
Result<nlohmann::json> MergedIndex(const std::filesystem::path& dir, const std::vector<Root>& roots) {
  auto manifests = nlohmann::json::array();
  std::string path = (dir / oci::kIndexFile).string();
  auto existing = posix::ReadFile(path);
  nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", oci::kOciIndex}};
  if (existing.ok()) {
    auto json = oci::ParseJson(*existing, path);
    if (!json.ok()) return json.status();
    if (!json->is_object() || json->value("schemaVersion", 0) != 2) {
      return Status::InvalidArgument(path + ": not an image index with schemaVersion 2");
    }
    index = *json;
    auto old = oci::Children(oci::kOciIndex, *json, path);
    if (!old.ok()) return old.status();
    for (const auto& entry : *old) {
      auto name = entry.annotations.find(std::string(oci::kRefNameAnnotation));
      bool replaced = false;
      for (const auto& root : roots) {
        if (name != entry.annotations.end() ? root.name == name->second
                                            : root.name.empty() && root.descriptor.digest == entry.digest) {
          replaced = true;
        }
      }
      if (!replaced) manifests.push_back(oci::DescriptorJson(entry));
    }
  } else if (!existing.status().IsNotFound()) {
    return existing.status();
  }
  for (const auto& root : roots) {
    oci::Descriptor entry = root.descriptor;
    if (!root.name.empty()) entry.annotations[std::string(oci::kRefNameAnnotation)] = root.name;
    manifests.push_back(oci::DescriptorJson(entry));
  }
  index["manifests"] = manifests;
  return index;
}

int Run(const GlobalOptions& globals, const ExportArgs& args) {
  struct Wanted {
    Digest digest;
    std::string name;
  };
  std::vector<Wanted> wanted;
  for (const auto& tag : args.tags) {
    size_t eq = tag.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(kExportCommand, Status::InvalidArgument("--tag \"" + tag + "\" is not NAME=DIGEST"));
    }
    auto digest = Digest::Parse(tag.substr(eq + 1));
    if (!digest.ok()) return Fail(kExportCommand, digest.status());
    wanted.push_back({*digest, tag.substr(0, eq)});
  }
  auto store = OpenStore(globals, StoreAccess::kRead);
  if (!store.ok()) return Fail(kExportCommand, store.status());

  std::vector<std::string> filters = args.filters;
  // Nothing named: every image that has a name.
  if (filters.empty() && wanted.empty()) {
    filters.push_back(fmt::format("labels.\"{}\"", oci::kRefNameAnnotation));
  }
  if (!filters.empty()) {
    Status walked = (*store)->Walk(
        [&](const BlobInfo& info) {
          auto name = info.labels.find(std::string(oci::kRefNameAnnotation));
          wanted.push_back({info.digest, name != info.labels.end() ? name->second : ""});
          return Status::Ok();
        },
        filters);
    if (!walked.ok()) return Fail(kExportCommand, walked);
  }
  if (wanted.empty()) return Fail(kExportCommand, Status::NotFound("no blob matches; nothing to export"));

  std::filesystem::path dir = args.dir;
  Exporter exporter(**store, dir);
  std::vector<Root> roots;
  for (const auto& item : wanted) {
    auto descriptor = exporter.Describe(item.digest);
    if (!descriptor.ok()) return Fail(kExportCommand, descriptor.status());
    Status status = exporter.Export(*descriptor, 0);
    if (!status.ok()) return Fail(kExportCommand, status);
    roots.push_back({*descriptor, item.name});
  }
  auto index = MergedIndex(dir, roots);
  if (!index.ok()) return Fail(kExportCommand, index.status());
  nlohmann::json layout = {{"imageLayoutVersion", oci::kLayoutVersion}};
  Status written = posix::WriteFileAtomic(dir / oci::kLayoutFile, layout.dump() + "\n", /*durable=*/true);
  if (written.ok()) written = posix::WriteFileAtomic(dir / oci::kIndexFile, index->dump() + "\n", true);
  if (!written.ok()) return Fail(kExportCommand, written);

  std::vector<ListedImage> exported;
  for (const auto& root : roots) exported.push_back({root.descriptor, root.name});
  PrintImages(exported, globals.json);
  return kExitOk;
}

}  // namespace

void AddExportCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* app = casfs.add_subcommand(kExportCommand, "Write images to an OCI image layout folder");
  app->add_option("DIR", args->dir, "The layout to write (created, or added to)")->required();
  app->add_option("--tag", args->tags, "Export manifest or index DIGEST under NAME (repeatable)")
      ->allow_extra_args(false)
      ->type_name("NAME=DIGEST");
  app->add_option("FILTER", args->filters,
                  "Also export every blob matching these containerd filters, named by its "
                  "org.opencontainers.image.ref.name label");
  app->footer(R"(With neither --tag nor FILTER, every blob labelled
org.opencontainers.image.ref.name (what casfs import records) is exported
under that name. Each chosen manifest or index is written with everything it
names (config, layers, child manifests), each blob verified as it is copied;
index.json lists the chosen ones, replacing entries of the same name.

Examples:
  casfs export /tmp/out                       # every named image
  casfs export /tmp/out --tag app:v1=sha256:3a6e...
  casfs export /tmp/out 'labels."org.opencontainers.image.ref.name"~=^app:'
  skopeo inspect oci:/tmp/out:app:v1)");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }});
}

}  // namespace casfs::tools
