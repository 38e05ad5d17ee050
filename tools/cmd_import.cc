// casfs import DIR: every image of an OCI image layout into the store,
// verified, with containerd's labels so the references can be followed.
#include <filesystem>
#include <set>

#include "CLI/CLI.hpp"
#include "core/posix.h"
#include "fmt/format.h"
#include "tools/cli.h"
#include "tools/copy.h"
#include "tools/exit_codes.h"
#include "tools/format.h"
#include "tools/image_list.h"
#include "tools/interrupt.h"
#include "tools/oci.h"

namespace casfs::tools {
namespace {

constexpr const char* kImportCommand = "import";

struct ImportArgs {
  std::string dir;
};

class Importer {
 public:
  Importer(LocalStore& store, std::filesystem::path dir) : store_(store), dir_(std::move(dir)) {}

  // Imports the blob, then (for a manifest or index) everything it names,
  // then labels it with its children.
  Status Import(const oci::Descriptor& descriptor, int depth) {
    if (depth > oci::kMaxNesting) {
      return Status::InvalidArgument(fmt::format("{}: more than {} levels of nested indexes",
                                                 descriptor.digest.ToString(), oci::kMaxNesting));
    }
    if (!done_.insert(descriptor.digest.ToString()).second) return Status::Ok();
    std::filesystem::path path = oci::BlobPath(dir_, descriptor.digest);
    Status copied = ImportBlob(descriptor, path);
    if (copied.IsNotFound() && descriptor.has_urls) return Status::Ok();  // a foreign layer, fetched elsewhere
    CASFS_RETURN_IF_ERROR(copied);
    if (!oci::IsManifest(descriptor.media_type) && !oci::IsIndex(descriptor.media_type)) return Status::Ok();

    auto content = oci::ReadStoreBlob(store_, descriptor.digest, oci::kMaxJsonSize);
    if (!content.ok()) return content.status();
    auto json = oci::ParseJson(*content, path.string());
    if (!json.ok()) return json.status();
    auto children = oci::Children(descriptor.media_type, *json, path.string());
    if (!children.ok()) return children.status();
    for (const auto& child : *children) CASFS_RETURN_IF_ERROR(Import(child, depth + 1));
    return SetLabels(descriptor.digest, oci::ChildGcLabels(*children));
  }

  Status SetLabels(const Digest& digest, const Labels& labels) {
    if (labels.empty()) return Status::Ok();
    BlobInfo change;
    change.digest = digest;
    change.labels = labels;
    std::vector<std::string> fieldpaths;
    for (const auto& [key, value] : labels) fieldpaths.push_back("labels." + key);
    auto updated = store_.Update(change, fieldpaths);
    return updated.ok() ? Status::Ok() : updated.status();
  }

  int blobs_written() const { return written_; }

 private:
  // Ingests under a ref named after the digest, so an interrupted import
  // resumes where it stopped; the engine checks size and digest at commit.
  Status ImportBlob(const oci::Descriptor& descriptor, const std::filesystem::path& path) {
    LocalWriterOptions options;
    options.ref = "casfs-import-" + descriptor.digest.ToString();
    options.total = descriptor.size;
    options.expected = descriptor.digest;
    auto writer = store_.OpenWriter(options);
    if (!writer.ok()) return writer.status().IsAlreadyExists() ? Status::Ok() : writer.status();
    auto input = Input::Open(path.string());
    if (!input.ok()) {
      (void)(*writer)->Close();
      (void)store_.Abort(options.ref);
      return input.status();
    }
    Progress progress(descriptor.digest.ToString(), descriptor.size);
    Status status = CopyTail(*input, **writer, options.ref, progress);
    if (status.ok()) status = (*writer)->Commit(descriptor.size, descriptor.digest);
    if (status.ok()) ++written_;
    if (status.ok() || status.IsAlreadyExists()) return Status::Ok();
    (void)(*writer)->Close();
    // Bytes that fail verification are no use to a resume; an interrupted
    // copy is (the next import goes on from there).
    if (!Interrupted()) (void)store_.Abort(options.ref);
    return status.WithContext(path.string());
  }

  LocalStore& store_;
  std::filesystem::path dir_;
  std::set<std::string> done_;
  int written_ = 0;
};

Result<std::vector<oci::Descriptor>> ReadIndex(const std::filesystem::path& dir) {
  auto layout = posix::ReadFile(dir / oci::kLayoutFile);
  if (!layout.ok()) {
    return layout.status().IsNotFound()
               ? Status::InvalidArgument(dir.string() + " is not an OCI image layout: it has no oci-layout file")
               : layout.status();
  }
  auto layout_json = oci::ParseJson(*layout, (dir / oci::kLayoutFile).string());
  if (!layout_json.ok()) return layout_json.status();
  if (!layout_json->is_object() || !layout_json->contains("imageLayoutVersion")) {
    return Status::InvalidArgument((dir / oci::kLayoutFile).string() + ": no imageLayoutVersion");
  }
  std::string index_path = (dir / oci::kIndexFile).string();
  auto index = posix::ReadFile(index_path);
  if (!index.ok()) return index.status();
  auto json = oci::ParseJson(*index, index_path);
  if (!json.ok()) return json.status();
  if (!json->is_object() || json->value("schemaVersion", 0) != 2) {
    return Status::InvalidArgument(index_path + ": not an image index with schemaVersion 2");
  }
  return oci::Children(oci::kOciIndex, *json, index_path);
}

int Run(const GlobalOptions& globals, const ImportArgs& args) {
  std::filesystem::path dir = args.dir;
  auto manifests = ReadIndex(dir);
  if (!manifests.ok()) return Fail(kImportCommand, manifests.status());
  auto store = OpenStore(globals, StoreAccess::kWrite);
  if (!store.ok()) return Fail(kImportCommand, store.status());
  CatchInterrupts();

  Importer importer(**store, dir);
  std::string root_time = FormatRfc3339Nano(Timestamp::Now());
  std::vector<ListedImage> imported;
  for (const auto& manifest : *manifests) {
    Status status = importer.Import(manifest, 0);
    if (Interrupted()) {
      ReportText(kImportCommand, "interrupted; run the same command to go on");
      return kExitInterrupted;
    }
    if (!status.ok()) return Fail(kImportCommand, status);
    Labels labels{{std::string(oci::kGcRootLabel), root_time}};
    auto name = manifest.annotations.find(std::string(oci::kRefNameAnnotation));
    if (name != manifest.annotations.end()) labels[std::string(oci::kRefNameAnnotation)] = name->second;
    Status labelled = importer.SetLabels(manifest.digest, labels);
    if (!labelled.ok()) return Fail(kImportCommand, labelled);
    imported.push_back({manifest, name != manifest.annotations.end() ? name->second : ""});
  }
  PrintImages(imported, globals.json);
  return kExitOk;
}

}  // namespace

void AddImportCommand(CLI::App& casfs, const GlobalOptions& globals, CommandList& commands) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* app = casfs.add_subcommand(kImportCommand, "Import every image of an OCI image layout folder");
  app->add_option("DIR", args->dir, "The layout: oci-layout, index.json, blobs/<alg>/<hex>")->required();
  app->footer(R"(Every blob reachable from index.json (manifests, indexes, configs, layers;
OCI and Docker media types) is ingested and verified against its digest and
size; blobs already in the store are not read again. Labels recorded, as
containerd does:
  containerd.io/gc.ref.content.*      on manifests and indexes, naming children
  containerd.io/gc.root               on every index.json entry (time of import)
  org.opencontainers.image.ref.name   the entry's name (tag), when it has one
Prints "DIGEST  NAME" per index.json entry. An interrupted import resumes.

Examples:
  skopeo copy docker-archive:img.tar oci:/tmp/img:latest && casfs import /tmp/img
  casfs ls 'labels."org.opencontainers.image.ref.name"==latest')");
  commands.push_back({app, [&globals, args] { return Run(globals, *args); }});
}

}  // namespace casfs::tools
