// casfs import / export against the OCI image-layout rules, with skopeo as
// the independent producer and consumer.
#include <filesystem>
#include <set>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/tools/cli_runner.h"

namespace casfs::cli_test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr const char* kOciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr const char* kRefName = "org.opencontainers.image.ref.name";

json Descriptor(const std::string& media_type, const std::string& content) {
  return {{"mediaType", media_type}, {"digest", Sha256Of(content)}, {"size", content.size()}};
}

class CliOci : public CliTest {
 protected:
  // A gzipped tar with one file, made by tar(1).
  std::string Layer(const std::string& name, const std::string& content) {
    fs::path ctx = dir() / ("ctx-" + name);
    fs::create_directories(ctx);
    WriteFile(ctx / name, content);
    fs::path out = dir() / (name + ".tar.gz");
    RunResult tar = RunProgram("tar", {"-C", ctx.string(), "-czf", out.string(), name});
    EXPECT_EQ(tar.exit_code, 0) << tar;
    return ReadFile(out);
  }

  static std::string Config() {
    return json{{"architecture", "amd64"}, {"os", "linux"}, {"config", json::object()},
                {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}}}
        .dump();
  }

  // Writes blobs into an OCI layout folder by hand.
  static void PutBlob(const fs::path& layout, const std::string& content) {
    fs::path path = layout / "blobs/sha256" / Sha256Of(content).substr(7);
    fs::create_directories(path.parent_path());
    WriteFile(path, content);
  }
  static void WriteLayout(const fs::path& layout, const json& manifests) {
    fs::create_directories(layout);
    WriteFile(layout / "oci-layout", R"({"imageLayoutVersion": "1.0.0"})");
    WriteFile(layout / "index.json", json{{"schemaVersion", 2}, {"manifests", manifests}}.dump());
  }

  // Checks the image-layout rules on a folder; returns the index.
  static json CheckLayout(const fs::path& layout) {
    json oci_layout = json::parse(ReadFile(layout / "oci-layout"));
    EXPECT_EQ(oci_layout, (json{{"imageLayoutVersion", "1.0.0"}}));
    json index = json::parse(ReadFile(layout / "index.json"));
    EXPECT_EQ(index["schemaVersion"], 2);
    EXPECT_TRUE(index["manifests"].is_array());
    // Every blob hashes to its name.
    for (const auto& algorithm : fs::directory_iterator(layout / "blobs")) {
      for (const auto& blob : fs::directory_iterator(algorithm.path())) {
        std::string name = algorithm.path().filename().string() + ":" + blob.path().filename().string();
        EXPECT_EQ(DigestOf(algorithm.path().filename().string(), ReadFile(blob.path())), name);
      }
    }
    // Every descriptor reachable from the index points at a blob of its size.
    std::vector<json> todo(index["manifests"].begin(), index["manifests"].end());
    while (!todo.empty()) {
      json descriptor = todo.back();
      todo.pop_back();
      std::string digest = descriptor["digest"];
      fs::path path = layout / "blobs" / digest.substr(0, digest.find(':')) / digest.substr(digest.find(':') + 1);
      EXPECT_TRUE(fs::exists(path)) << digest;
      if (!fs::exists(path)) continue;
      EXPECT_EQ(fs::file_size(path), descriptor["size"].get<uint64_t>()) << digest;
      std::string media_type = descriptor["mediaType"];
      if (media_type == kOciManifest || media_type == kOciIndex) {
        json content = json::parse(ReadFile(path));
        if (content.contains("config")) todo.push_back(content["config"]);
        for (const auto& d : content.value("layers", json::array())) todo.push_back(d);
        for (const auto& d : content.value("manifests", json::array())) todo.push_back(d);
      }
    }
    return index;
  }

  json Labels(const std::string& digest) { return json::parse(Casfs({"--json", "info", digest}).out)["labels"]; }
};

// A producer that is not casfs (skopeo), then casfs export read back by it.
TEST_F(CliOci, SkopeoLayoutRoundTrip) {
  if (!HaveProgram("skopeo")) GTEST_SKIP() << "skopeo is not installed";
  // A "dir:" image, skopeo's plain-folder transport: manifest.json, the
  // blobs named by hex, and a version file.
  std::string layer = Layer("hello.txt", "hello from a layer\n");
  std::string config = Config();
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", kOciManifest},
                   {"config", Descriptor(kOciConfig, config)},
                   {"layers", json::array({Descriptor(kOciLayer, layer)})}};
  fs::path image = dir() / "image";
  fs::create_directories(image);
  WriteFile(image / "manifest.json", manifest.dump());
  WriteFile(image / Sha256Of(layer).substr(7), layer);
  WriteFile(image / Sha256Of(config).substr(7), config);
  WriteFile(image / "version", "Directory Transport Version: 1.1\n");
  fs::path in = dir() / "in";
  RunResult copied = RunProgram("skopeo", {"copy", "dir:" + image.string(), "oci:" + in.string() + ":v1"});
  ASSERT_EQ(copied.exit_code, 0) << copied;
  json in_index = CheckLayout(in);
  ASSERT_EQ(in_index["manifests"].size(), 1u);
  std::string manifest_digest = in_index["manifests"][0]["digest"];

  RunResult imported = Casfs({"import", in.string()});
  ASSERT_EQ(imported.exit_code, 0) << imported;
  EXPECT_EQ(imported.out, manifest_digest + "  v1\n");
  // The tag finds the manifest; the manifest names its children.
  RunResult by_name = Casfs({"ls", "-q", std::string("labels.\"") + kRefName + "\"==v1"});
  EXPECT_EQ(by_name.out, manifest_digest + "\n") << by_name;
  json labels = Labels(manifest_digest);
  EXPECT_EQ(labels["containerd.io/gc.ref.content.config"], Sha256Of(config));
  EXPECT_EQ(labels["containerd.io/gc.ref.content.l.0"], Sha256Of(layer));
  EXPECT_TRUE(labels.contains("containerd.io/gc.root"));
  EXPECT_EQ(Casfs({"verify"}).exit_code, 0);
  std::set<std::string> stored;
  for (const auto& entry : json::parse(Casfs({"--json", "ls"}).out)) stored.insert(entry["digest"]);
  EXPECT_EQ(stored, (std::set<std::string>{manifest_digest, Sha256Of(config), Sha256Of(layer)}));

  fs::path out = dir() / "out";
  RunResult exported = Casfs({"export", out.string()});
  ASSERT_EQ(exported.exit_code, 0) << exported;
  EXPECT_EQ(exported.out, manifest_digest + "  v1\n");
  json out_index = CheckLayout(out);
  ASSERT_EQ(out_index["manifests"].size(), 1u);
  EXPECT_EQ(out_index["manifests"][0]["digest"], manifest_digest);
  EXPECT_EQ(out_index["manifests"][0]["mediaType"], kOciManifest);
  EXPECT_EQ(out_index["manifests"][0]["annotations"][kRefName], "v1");

  RunResult inspected = RunProgram("skopeo", {"inspect", "oci:" + out.string() + ":v1"});
  ASSERT_EQ(inspected.exit_code, 0) << inspected;
  EXPECT_EQ(json::parse(inspected.out)["Digest"], manifest_digest);
  fs::path back = dir() / "back";
  RunResult read_back = RunProgram("skopeo", {"copy", "oci:" + out.string() + ":v1", "dir:" + back.string()});
  ASSERT_EQ(read_back.exit_code, 0) << read_back;
  EXPECT_TRUE(ReadFile(back / Sha256Of(layer).substr(7)) == layer);
  EXPECT_EQ(ReadFile(back / Sha256Of(config).substr(7)), config);
}

// An index of two manifests, Docker and OCI media types, made by hand.
TEST_F(CliOci, ImportWalksIndexesAndLabelsLikeContainerd) {
  std::string layer_a = "layer a bytes";
  std::string layer_b1 = "layer b1 bytes";
  std::string layer_b2 = "layer b2 bytes";
  std::string config_a = R"({"os":"linux","architecture":"amd64"})";
  std::string config_b = R"({"os":"linux","architecture":"arm64"})";
  std::string manifest_a =
      json{{"schemaVersion", 2},
           {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
           {"config", Descriptor("application/vnd.docker.container.image.v1+json", config_a)},
           {"layers", json::array({Descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", layer_a)})}}
          .dump();
  std::string manifest_b =
      json{{"schemaVersion", 2},
           {"mediaType", kOciManifest},
           {"config", Descriptor(kOciConfig, config_b)},
           {"layers", json::array({Descriptor(kOciLayer, layer_b1), Descriptor(kOciLayer, layer_b2)})}}
          .dump();
  std::string index =
      json{{"schemaVersion", 2},
           {"mediaType", kOciIndex},
           {"manifests", json::array({Descriptor("application/vnd.docker.distribution.manifest.v2+json", manifest_a),
                                      Descriptor(kOciManifest, manifest_b)})}}
          .dump();
  fs::path layout = dir() / "layout";
  for (const auto* blob : {&layer_a, &layer_b1, &layer_b2, &config_a, &config_b, &manifest_a, &manifest_b, &index}) {
    PutBlob(layout, *blob);
  }
  json entry = Descriptor(kOciIndex, index);
  entry["annotations"] = {{kRefName, "multi:1"}};
  WriteLayout(layout, json::array({entry}));

  RunResult imported = Casfs({"import", layout.string()});
  ASSERT_EQ(imported.exit_code, 0) << imported;
  EXPECT_EQ(imported.out, Sha256Of(index) + "  multi:1\n");
  json index_labels = Labels(Sha256Of(index));
  EXPECT_EQ(index_labels["containerd.io/gc.ref.content.m.0"], Sha256Of(manifest_a));
  EXPECT_EQ(index_labels["containerd.io/gc.ref.content.m.1"], Sha256Of(manifest_b));
  EXPECT_EQ(index_labels[kRefName], "multi:1");
  EXPECT_TRUE(index_labels.contains("containerd.io/gc.root"));
  json a_labels = Labels(Sha256Of(manifest_a));
  EXPECT_EQ(a_labels["containerd.io/gc.ref.content.config"], Sha256Of(config_a));
  EXPECT_EQ(a_labels["containerd.io/gc.ref.content.l.0"], Sha256Of(layer_a));
  EXPECT_FALSE(a_labels.contains("containerd.io/gc.root")) << "only index.json's entries are roots";
  json b_labels = Labels(Sha256Of(manifest_b));
  EXPECT_EQ(b_labels["containerd.io/gc.ref.content.l.0"], Sha256Of(layer_b1));
  EXPECT_EQ(b_labels["containerd.io/gc.ref.content.l.1"], Sha256Of(layer_b2));
  EXPECT_EQ(json::parse(Casfs({"--json", "ls"}).out).size(), 8u);

  // Importing again changes nothing and succeeds.
  RunResult again = Casfs({"import", layout.string()});
  EXPECT_EQ(again.exit_code, 0) << again;

  // Exported by digest under a new name, with the whole tree.
  fs::path out = dir() / "out";
  RunResult exported = Casfs({"export", out.string(), "--tag", "renamed=" + Sha256Of(index)});
  ASSERT_EQ(exported.exit_code, 0) << exported;
  json out_index = CheckLayout(out);
  ASSERT_EQ(out_index["manifests"].size(), 1u);
  EXPECT_EQ(out_index["manifests"][0]["mediaType"], kOciIndex);
  EXPECT_EQ(out_index["manifests"][0]["annotations"][kRefName], "renamed");
  size_t blobs = 0;
  for ([[maybe_unused]] const auto& blob : fs::directory_iterator(out / "blobs/sha256")) ++blobs;
  EXPECT_EQ(blobs, 8u);
}

TEST_F(CliOci, ExportAddsToAnExistingLayoutAndReplacesSameName) {
  std::string config = R"({"os":"linux"})";
  std::string layer = "layer";
  auto manifest_for = [&](const std::string& extra) {
    return json{{"schemaVersion", 2},
                {"mediaType", kOciManifest},
                {"config", Descriptor(kOciConfig, config)},
                {"layers", json::array({Descriptor(kOciLayer, layer)})},
                {"annotations", {{"x", extra}}}}
        .dump();
  };
  std::string one = manifest_for("1");
  std::string two = manifest_for("2");
  std::string three = manifest_for("3");
  for (const auto& blob : {config, layer, one, two, three}) Add(blob);
  fs::path out = dir() / "out";
  ASSERT_EQ(Casfs({"export", out.string(), "--tag", "a=" + Sha256Of(one), "--tag", "b=" + Sha256Of(two)}).exit_code,
            0);
  RunResult second = Casfs({"export", out.string(), "--tag", "b=" + Sha256Of(three)});
  ASSERT_EQ(second.exit_code, 0) << second;
  json index = CheckLayout(out);
  ASSERT_EQ(index["manifests"].size(), 2u) << index;
  EXPECT_EQ(index["manifests"][0]["annotations"][kRefName], "a");
  EXPECT_EQ(index["manifests"][0]["digest"], Sha256Of(one));
  EXPECT_EQ(index["manifests"][1]["annotations"][kRefName], "b");
  EXPECT_EQ(index["manifests"][1]["digest"], Sha256Of(three));
}

TEST_F(CliOci, ImportOfAFolderThatIsNoLayoutIsAUsageError) {
  fs::create_directories(dir() / "empty");
  RunResult result = Casfs({"import", (dir() / "empty").string()});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: import: " + (dir() / "empty").string() +
                            " is not an OCI image layout: it has no oci-layout file: invalid argument\n");
}

TEST_F(CliOci, ImportOfBadIndexJsonIsAUsageError) {
  fs::path layout = dir() / "layout";
  WriteLayout(layout, json::array());
  WriteFile(layout / "index.json", "{not json");
  RunResult result = Casfs({"import", layout.string()});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: import: " + (layout / "index.json").string() + ": not valid JSON: invalid argument\n");
}

TEST_F(CliOci, ImportVerifiesEveryBlob) {
  std::string config = R"({"os":"linux"})";
  std::string layer = "the real layer";
  std::string manifest = json{{"schemaVersion", 2},
                              {"mediaType", kOciManifest},
                              {"config", Descriptor(kOciConfig, config)},
                              {"layers", json::array({Descriptor(kOciLayer, layer)})}}
                             .dump();
  fs::path layout = dir() / "layout";
  PutBlob(layout, config);
  PutBlob(layout, manifest);
  fs::path layer_path = layout / "blobs/sha256" / Sha256Of(layer).substr(7);
  WriteFile(layer_path, "a forged layer");
  WriteLayout(layout, json::array({Descriptor(kOciManifest, manifest)}));
  RunResult result = Casfs({"import", layout.string()});
  EXPECT_EQ(result.exit_code, 6) << result;
  EXPECT_EQ(result.err.rfind("casfs: import: " + layer_path.string() + ": unexpected commit ", 0), 0u) << result;
  EXPECT_EQ(Casfs({"ls", "-q", "digest==" + Sha256Of(layer)}).out, "");
  EXPECT_EQ(Casfs({"active", "-q"}).out, "") << "a blob that failed verification leaves no ingest";
}

TEST_F(CliOci, ImportOfAMissingBlobIsNotFound) {
  std::string config = R"({"os":"linux"})";
  std::string manifest = json{{"schemaVersion", 2},
                              {"mediaType", kOciManifest},
                              {"config", Descriptor(kOciConfig, config)},
                              {"layers", json::array()}}
                             .dump();
  fs::path layout = dir() / "layout";
  PutBlob(layout, manifest);
  WriteLayout(layout, json::array({Descriptor(kOciManifest, manifest)}));
  RunResult result = Casfs({"import", layout.string()});
  EXPECT_EQ(result.exit_code, 3) << result;
  fs::path missing = layout / "blobs/sha256" / Sha256Of(config).substr(7);
  EXPECT_EQ(result.err, "casfs: import: open " + missing.string() + ": No such file or directory: not found\n");
}

TEST_F(CliOci, ExportErrors) {
  fs::path out = dir() / "out";
  RunResult nothing = Casfs({"export", out.string()});
  EXPECT_EQ(nothing.exit_code, 3) << nothing;
  EXPECT_EQ(nothing.err, "casfs: export: no blob matches; nothing to export: not found\n");

  RunResult bad_tag = Casfs({"export", out.string(), "--tag", "no-digest"});
  EXPECT_EQ(bad_tag.exit_code, 2) << bad_tag;
  EXPECT_EQ(bad_tag.err, "casfs: export: --tag \"no-digest\" is not NAME=DIGEST: invalid argument\n");

  std::string unknown = Sha256Of("unknown");
  RunResult missing = Casfs({"export", out.string(), "--tag", "x=" + unknown});
  EXPECT_EQ(missing.exit_code, 3) << missing;
  EXPECT_EQ(missing.err, "casfs: export: content " + unknown + ": not found\n");

  std::string plain = Add("just bytes");
  RunResult not_image = Casfs({"export", out.string(), "--tag", "x=" + plain});
  EXPECT_EQ(not_image.exit_code, 2) << not_image;
  EXPECT_EQ(not_image.err, "casfs: export: " + plain + " is not an image manifest or index: invalid argument\n");

  RunResult bad_filter = Casfs({"export", out.string(), "labels.a-b"});
  EXPECT_EQ(bad_filter.exit_code, 2) << bad_filter;
  EXPECT_FALSE(fs::exists(out / "index.json")) << "nothing written on failure";
}

}  // namespace
}  // namespace casfs::cli_test
