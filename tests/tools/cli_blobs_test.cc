// casfs ls, info, label, rm.
#include <algorithm>
#include <regex>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/tools/cli_runner.h"

namespace casfs::cli_test {
namespace {

using CliLs = CliTest;
using CliInfo = CliTest;
using CliLabel = CliTest;
using CliRm = CliTest;

const std::regex kRfc3339Nano(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z)");

TEST_F(CliLs, TableIsAlignedWithHumanSizesAndAges) {
  std::string small = Add("tiny");
  std::string big = Add(std::string(1536, 'x'));
  ASSERT_EQ(Casfs({"label", small, "k=v", "a=b"}).exit_code, 0);
  RunResult result = Casfs({"ls"});
  ASSERT_EQ(result.exit_code, 0) << result;
  std::vector<std::pair<std::string, std::string>> rows = {{small, "4 B"}, {big, "1.5 KiB"}};
  std::sort(rows.begin(), rows.end());
  std::string header = "DIGEST" + std::string(71 - 6 + 2, ' ') + "SIZE     AGE";
  EXPECT_EQ(result.out.substr(0, header.size()), header) << result.out;
  std::istringstream lines(result.out);
  std::string line;
  std::getline(lines, line);
  size_t size_column = line.find("SIZE");
  size_t age_column = line.find("AGE");
  size_t labels_column = line.find("LABELS");
  for (const auto& [digest, size] : rows) {
    ASSERT_TRUE(std::getline(lines, line));
    EXPECT_EQ(line.substr(0, digest.size()), digest);
    EXPECT_EQ(line.substr(size_column, size.size()), size) << line;
    EXPECT_TRUE(std::regex_search(line.substr(age_column), std::regex("^(Less than a second|1 second|\\d+ seconds) ago")))
        << line;
    if (digest == small) {
      EXPECT_EQ(line.substr(labels_column), "a=b,k=v");
    }
  }
  EXPECT_FALSE(std::getline(lines, line));
}

TEST_F(CliLs, QuietPrintsDigestsOnly) {
  std::vector<std::string> digests = {Add("1"), Add("2"), Add("3")};
  std::sort(digests.begin(), digests.end());
  RunResult result = Casfs({"ls", "-q"});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, digests[0] + "\n" + digests[1] + "\n" + digests[2] + "\n");
}

TEST_F(CliLs, JsonHasEveryField) {
  std::string digest = Add("json me");
  ASSERT_EQ(Casfs({"label", digest, "k=v"}).exit_code, 0);
  RunResult result = Casfs({"--json", "ls"});
  ASSERT_EQ(result.exit_code, 0) << result;
  auto json = nlohmann::json::parse(result.out);
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["digest"], digest);
  EXPECT_EQ(json[0]["size"], 7);
  EXPECT_EQ(json[0]["labels"], (nlohmann::json{{"k", "v"}}));
  EXPECT_TRUE(std::regex_match(json[0]["created_at"].get<std::string>(), kRfc3339Nano)) << json;
  EXPECT_TRUE(std::regex_match(json[0]["updated_at"].get<std::string>(), kRfc3339Nano)) << json;
}

TEST_F(CliLs, EmptyStoreIsAnEmptyArrayInJson) {
  RunResult result = Casfs({"ls", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(nlohmann::json::parse(result.out), nlohmann::json::array());
}

TEST_F(CliLs, FiltersAreContainerds) {
  std::string a = Add("a");
  std::string b = Add("b");
  std::string c = Add("c");
  ASSERT_EQ(Casfs({"label", a, "containerd.io/gc.root=now", "team=x"}).exit_code, 0);
  ASSERT_EQ(Casfs({"label", b, "team=y"}).exit_code, 0);
  EXPECT_EQ(Casfs({"ls", "-q", "labels.\"containerd.io/gc.root\""}).out, a + "\n");
  EXPECT_EQ(Casfs({"ls", "-q", "digest==" + c}).out, c + "\n");
  std::vector<std::string> either = {a, b};
  std::sort(either.begin(), either.end());
  EXPECT_EQ(Casfs({"ls", "-q", "labels.team==x", "labels.team==y"}).out, either[0] + "\n" + either[1] + "\n");
  EXPECT_EQ(Casfs({"ls", "-q", "labels.team==x,labels.team==y"}).out, "");
}

TEST_F(CliLs, MalformedFilterIsAUsageError) {
  RunResult result = Casfs({"ls", "labels.k-1==v"});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "casfs: ls: filters: parse error: [labels.k >|-|< 1==v]: expected an operator (\"==\"|\"!=\"|\"~=\"): "
            "invalid argument\n");
}

TEST_F(CliInfo, ShowsEveryField) {
  std::string digest = Add("info");
  ASSERT_EQ(Casfs({"label", digest, "k=v"}).exit_code, 0);
  RunResult result = Casfs({"info", digest});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_NE(result.out.find("Digest:     " + digest + "\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Size:       4 B (4 bytes)\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("CreatedAt:  "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("UpdatedAt:  "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Path:       " + (root() / "blobs/sha256" / digest.substr(7)).string() + "\n"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("Labels:     \n  k=v\n"), std::string::npos) << result.out;
}

TEST_F(CliInfo, JsonObject) {
  std::string digest = Add("info json");
  RunResult result = Casfs({"info", "--json", digest});
  ASSERT_EQ(result.exit_code, 0) << result;
  auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["digest"], digest);
  EXPECT_EQ(json["size"], 9);
  EXPECT_EQ(json["labels"], nlohmann::json::object());
  EXPECT_EQ(json["path"], (root() / "blobs/sha256" / digest.substr(7)).string());
  EXPECT_TRUE(std::regex_match(json["created_at"].get<std::string>(), kRfc3339Nano));
}

TEST_F(CliInfo, UnknownDigestIsNotFound) {
  std::string digest = Sha256Of("absent");
  RunResult result = Casfs({"info", digest});
  EXPECT_EQ(result.exit_code, 3) << result;
  EXPECT_EQ(result.err, "casfs: info: content " + digest + ": not found\n");
}

TEST_F(CliInfo, MalformedDigestIsAUsageError) {
  RunResult result = Casfs({"info", "md5:abc"});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: info: unsupported digest algorithm: \"md5:abc\": invalid argument\n");
}

TEST_F(CliLabel, SetsAndRemovesTogether) {
  std::string digest = Add("labels");
  ASSERT_EQ(Casfs({"label", digest, "a=1", "b=2", "c=3"}).exit_code, 0);
  RunResult result = Casfs({"label", digest, "a=", "b=two", "d=4"});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "");
  auto json = nlohmann::json::parse(Casfs({"--json", "info", digest}).out);
  EXPECT_EQ(json["labels"], (nlohmann::json{{"b", "two"}, {"c", "3"}, {"d", "4"}}));
}

TEST_F(CliLabel, ValueMayContainEquals) {
  std::string digest = Add("eq");
  ASSERT_EQ(Casfs({"label", digest, "expr=a=b"}).exit_code, 0);
  auto json = nlohmann::json::parse(Casfs({"--json", "info", digest}).out);
  EXPECT_EQ(json["labels"]["expr"], "a=b");
}

TEST_F(CliLabel, LabelWithoutEqualsIsAUsageErrorAndChangesNothing) {
  std::string digest = Add("bad label");
  RunResult result = Casfs({"label", digest, "good=1", "bad"});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: label: label \"bad\" is not KEY=VALUE: invalid argument\n");
  EXPECT_EQ(nlohmann::json::parse(Casfs({"--json", "info", digest}).out)["labels"], nlohmann::json::object());
}

TEST_F(CliLabel, EmptyKeyIsAUsageError) {
  RunResult result = Casfs({"label", Add("x"), "=v"});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: label: label key must not be empty: invalid argument\n");
}

TEST_F(CliLabel, TooLongIsAUsageError) {
  RunResult result = Casfs({"label", Add("x"), std::string(4096, 'k') + "=v"});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err,
            "casfs: label: label key and value greater than maximum size (4096 bytes), key: kkkkkkkkkk: invalid "
            "argument\n");
}

TEST_F(CliLabel, ReservedKeyIsPermissionDenied) {
  RunResult result = Casfs({"label", Add("x"), "casfs.digest=x"});
  EXPECT_EQ(result.exit_code, 7) << result;
  EXPECT_EQ(result.err,
            "casfs: label: label key casfs.digest is reserved: keys starting with \"casfs.\" belong to the mount: "
            "permission denied\n");
}

TEST_F(CliLabel, UnknownDigestIsNotFound) {
  std::string digest = Sha256Of("nothing");
  RunResult result = Casfs({"label", digest, "k=v"});
  EXPECT_EQ(result.exit_code, 3) << result;
  EXPECT_EQ(result.err, "casfs: label: content " + digest + ": not found\n");
}

TEST_F(CliRm, DeletesBlobs) {
  std::string a = Add("a");
  std::string b = Add("b");
  std::string c = Add("c");
  RunResult result = Casfs({"rm", a, b});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(Casfs({"ls", "-q"}).out, c + "\n");
  EXPECT_EQ(Casfs({"cat", a}).exit_code, 3);
}

TEST_F(CliRm, UnknownDigestIsNotFoundButTheOthersGo) {
  std::string missing = Sha256Of("missing");
  std::string present = Add("present");
  RunResult result = Casfs({"rm", missing, present});
  EXPECT_EQ(result.exit_code, 3) << result;
  EXPECT_EQ(result.err, "casfs: rm: content " + missing + ": not found\n");
  EXPECT_EQ(Casfs({"ls", "-q"}).out, "");
}

TEST_F(CliRm, ForceIgnoresMissing) {
  RunResult result = Casfs({"rm", "-f", Sha256Of("missing")});
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.err, "");
}

TEST_F(CliRm, MalformedDigestDeletesNothing) {
  std::string digest = Add("keep");
  RunResult result = Casfs({"rm", digest, "sha256"});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: rm: invalid checksum digest format: \"sha256\": invalid argument\n");
  EXPECT_EQ(Casfs({"ls", "-q"}).out, digest + "\n");
}

}  // namespace
}  // namespace casfs::cli_test
