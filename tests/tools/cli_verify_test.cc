// casfs verify.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "core/digest.h"
#include "core/layout.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/tools/cli_runner.h"

namespace casfs::cli_test {
namespace {

class CliVerify : public CliTest {
 protected:
  // Overwrites a blob's backing file, as bit rot or a careless root would.
  void Corrupt(const std::string& digest, const std::string& content) {
    auto parsed = Digest::Parse(digest);
    ASSERT_TRUE(parsed.ok());
    auto path = Layout(root()).BlobPath(*parsed);
    ASSERT_EQ(chmod(path.c_str(), 0644), 0);
    WriteFile(path, content);
  }
};

TEST_F(CliVerify, HealthyStoreIsQuietAndOk) {
  for (int i = 0; i < 6; ++i) Add(RandomBytes(100000 * i, i));
  RunResult result = Casfs({"verify"});
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "") << "the summary is for terminals only";
}

TEST_F(CliVerify, EmptyStoreIsOk) {
  RunResult result = Casfs({"verify"});
  EXPECT_EQ(result.exit_code, 0) << result;
}

TEST_F(CliVerify, ReportsEachCorruptBlobAndFails) {
  std::vector<std::string> digests;
  for (int i = 0; i < 5; ++i) digests.push_back(Add("blob " + std::to_string(i)));
  Corrupt(digests[1], "rotten one");
  Corrupt(digests[3], "rotten three");
  RunResult result = Casfs({"verify"});
  EXPECT_EQ(result.exit_code, 1) << result;
  std::vector<std::pair<std::string, std::string>> bad = {{digests[1], Sha256Of("rotten one")},
                                                          {digests[3], Sha256Of("rotten three")}};
  std::sort(bad.begin(), bad.end());
  std::string want;
  for (const auto& [digest, actual] : bad) want += digest + ": corrupt (its content hashes to " + actual + ")\n";
  EXPECT_EQ(result.out, want);
}

TEST_F(CliVerify, ReportsMisnamedFiles) {
  Add("fine");
  auto stray = root() / "blobs/sha256" / "NOT-A-DIGEST";
  WriteFile(stray, "stray");
  RunResult result = Casfs({"verify"});
  EXPECT_EQ(result.exit_code, 1) << result;
  EXPECT_EQ(result.out, stray.string() + ": misnamed (not a digest of its folder's algorithm)\n");
}

TEST_F(CliVerify, NamedDigestsOnly) {
  std::string good = Add("good");
  std::string bad = Add("bad");
  Corrupt(bad, "worse");
  EXPECT_EQ(Casfs({"verify", good}).exit_code, 0);
  RunResult result = Casfs({"verify", bad});
  EXPECT_EQ(result.exit_code, 1) << result;
  EXPECT_EQ(result.out, bad + ": corrupt (its content hashes to " + Sha256Of("worse") + ")\n");
}

TEST_F(CliVerify, UnknownDigestIsNotFound) {
  std::string digest = Sha256Of("not there");
  RunResult result = Casfs({"verify", digest});
  EXPECT_EQ(result.exit_code, 3) << result;
  EXPECT_EQ(result.err, "casfs: verify: content " + digest + ": not found\n");
}

TEST_F(CliVerify, CorruptionWinsOverNotFound) {
  std::string bad = Add("bad");
  Corrupt(bad, "worse");
  RunResult result = Casfs({"verify", Sha256Of("not there"), bad});
  EXPECT_EQ(result.exit_code, 1) << result;
}

// A root may hold sha512 content written by another tool (not through
// casfs's writer): it is listed, read and verified like any blob.
TEST_F(CliVerify, Sha512BlobsAreListedReadAndVerified) {
  Add("make the root");
  std::string data = "sha512 content";
  std::string digest = DigestOf("sha512", data);
  auto parsed = Digest::Parse(digest);
  ASSERT_TRUE(parsed.ok());
  auto path = Layout(root()).BlobPath(*parsed);
  std::filesystem::create_directories(path.parent_path());
  WriteFile(path, data);
  EXPECT_EQ(Casfs({"ls", "-q", "digest~=^sha512:"}).out, digest + "\n");
  RunResult cat = Casfs({"cat", digest});
  EXPECT_EQ(cat.exit_code, 0) << cat;
  EXPECT_EQ(cat.out, data);
  EXPECT_EQ(Casfs({"verify"}).exit_code, 0);
  WriteFile(path, "changed");
  RunResult verify = Casfs({"verify"});
  EXPECT_EQ(verify.exit_code, 1) << verify;
  EXPECT_EQ(verify.out, digest + ": corrupt (its content hashes to " + DigestOf("sha512", "changed") + ")\n");
}

TEST_F(CliVerify, Json) {
  std::string bad = Add("bad");
  Add("good");
  Corrupt(bad, "worse");
  RunResult result = Casfs({"verify", "--json"});
  EXPECT_EQ(result.exit_code, 1) << result;
  auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["blobs"], 2);
  ASSERT_EQ(json["problems"].size(), 1u);
  EXPECT_EQ(json["problems"][0]["digest"], bad);
  EXPECT_EQ(json["problems"][0]["problem"], "corrupt");
  EXPECT_EQ(json["problems"][0]["actual"], Sha256Of("worse"));
}

}  // namespace
}  // namespace casfs::cli_test
