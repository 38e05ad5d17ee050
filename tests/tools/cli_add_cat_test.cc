// casfs add and casfs cat / get.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "core/layout.h"
#include "core/digest.h"
#include "core/digester.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_runner.h"

namespace casfs::cli_test {
namespace {

using CliAdd = CliTest;
using CliCat = CliTest;

TEST_F(CliAdd, PrintsDigestAndFileLikeSha256sum) {
  std::string a = File("a.txt", "alpha\n");
  std::string b = File("b.txt", "beta\n");
  RunResult result = Casfs({"add", a, b});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, Sha256Of("alpha\n") + "  " + a + "\n" + Sha256Of("beta\n") + "  " + b + "\n");
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(ReadFile(root() / "blobs/sha256" / Sha256Of("alpha\n").substr(7)), "alpha\n");
}

TEST_F(CliAdd, ReadsStandardInput) {
  std::string data = RandomBytes(3 << 20, 1);
  RunOptions options;
  options.input = data;
  RunResult result = Casfs({"add", "-"}, options);
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, Sha256Of(data) + "  -\n");
}

TEST_F(CliAdd, SameContentTwiceIsStoredOnce) {
  std::string a = File("a", "same");
  std::string b = File("b", "same");
  RunResult result = Casfs({"add", a, b});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(Casfs({"ls", "-q"}).out, Sha256Of("same") + "\n");
  EXPECT_EQ(Casfs({"active", "-q"}).out, "");
}

TEST_F(CliAdd, EmptyFile) {
  RunResult result = Casfs({"add", File("empty", "")});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out.substr(0, 71), Sha256Of(""));
}

TEST_F(CliAdd, LabelsEveryBlob) {
  RunResult result = Casfs({"add", "--label", "k=v", File("a", "1"), "--label", "owner=me", File("b", "2")});
  ASSERT_EQ(result.exit_code, 0) << result;
  std::vector<std::string> want = {Sha256Of("1"), Sha256Of("2")};
  std::sort(want.begin(), want.end());  // ls lists in digest order
  EXPECT_EQ(Casfs({"ls", "-q", "labels.k==v,labels.owner==me"}).out, want[0] + "\n" + want[1] + "\n");
}

TEST_F(CliAdd, MissingFileIsReportedAndTheOthersAreStillAdded) {
  std::string missing = (dir() / "nope").string();
  std::string good = File("good", "good");
  RunResult result = Casfs({"add", missing, good});
  EXPECT_EQ(result.exit_code, 3) << result;
  EXPECT_EQ(result.err, "casfs: add: open " + missing + ": No such file or directory: not found\n");
  EXPECT_EQ(result.out, Sha256Of("good") + "  " + good + "\n");
  EXPECT_EQ(Casfs({"active", "-q"}).out, "") << "a failed add leaves no ingest behind";
}

TEST_F(CliAdd, FolderIsAnInvalidArgument) {
  RunResult result = Casfs({"add", dir().string()});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: add: " + dir().string() + ": is a folder, not a file: invalid argument\n");
}

TEST_F(CliAdd, UnreadableFileIsPermissionDenied) {
  std::string secret = File("secret", "top secret");
  ASSERT_EQ(chmod(secret.c_str(), 0), 0);
  RunOptions options;
  if (geteuid() == 0) {
    // root reads everything: run as nobody, on a root nobody may write.
    if (!HaveProgram("setpriv")) GTEST_SKIP() << "setpriv is missing; as root no file is unreadable";
    ASSERT_EQ(chmod(dir().c_str(), 0777), 0);
    std::filesystem::create_directories(root());
    ASSERT_EQ(chmod(root().c_str(), 0777), 0);
    options.prefix = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  }
  RunResult result = Casfs({"add", secret}, options);
  EXPECT_EQ(result.exit_code, 7) << result;
  EXPECT_EQ(result.err, "casfs: add: open " + secret + ": Permission denied: permission denied\n");
}

TEST_F(CliAdd, BadLabelIsRejectedBeforeAnythingIsStored) {
  RunResult result = Casfs({"add", "--label", "novalue", File("a", "x")});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: add: label \"novalue\" is not KEY=VALUE: invalid argument\n");
  EXPECT_EQ(Casfs({"ls", "-q"}).out, "");
}

TEST_F(CliAdd, UnknownAlgorithmIsAUsageError) {
  RunResult result = Casfs({"add", "--algorithm", "md5", File("a", "x")});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_NE(result.err.find("casfs: add: "), std::string::npos) << result;
  EXPECT_NE(result.err.find("md5"), std::string::npos) << result;
}

// --algorithm names blobs by that digest: printed, stored under
// blobs/<alg>/, read back, listed and verified by it.
TEST_F(CliAdd, OtherAlgorithmsNameTheBlob) {
  const std::string content = "named by another algorithm\n";
  for (Algorithm algorithm : {Algorithm::kSha384, Algorithm::kSha512}) {
    const std::string name(AlgorithmName(algorithm));
    const std::string file = File("a-" + name, content);
    const Digest digest = DigestOf(algorithm, content.data(), content.size());
    RunResult result = Casfs({"add", "--algorithm", name, file});
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.out, digest.ToString() + "  " + file + "\n");
    EXPECT_EQ(Casfs({"cat", digest.ToString()}).out, content);
    RunResult again = Casfs({"add", "--algorithm", name, file});
    EXPECT_EQ(again.out, result.out) << "content already there is named the same";
  }
  EXPECT_EQ(Casfs({"ls", "-q"}).out,
            DigestOf(Algorithm::kSha384, content.data(), content.size()).ToString() + "\n" +
                DigestOf(Algorithm::kSha512, content.data(), content.size()).ToString() + "\n");
  EXPECT_EQ(Casfs({"active", "-q"}).out, "");
  RunResult verify = Casfs({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify;
  RunResult sha256 = Casfs({"add", "--algorithm", "sha256", File("b", "y")});
  EXPECT_EQ(sha256.exit_code, 0) << sha256;
  EXPECT_EQ(sha256.out.substr(0, 7), "sha256:");
}

TEST_F(CliCat, WritesContentOfEveryDigestInOrder) {
  std::string big = RandomBytes(5 << 20, 2);
  std::string a = Add(big);
  std::string b = Add("tail");
  RunResult result = Casfs({"cat", a, b});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.out == big + "tail");
  EXPECT_EQ(result.err, "");
}

TEST_F(CliCat, GetIsAnAlias) {
  std::string digest = Add("via get");
  RunResult result = Casfs({"get", digest});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "via get");
}

TEST_F(CliCat, UnknownDigestIsNotFound) {
  std::string digest = Sha256Of("never stored");
  RunResult result = Casfs({"cat", digest});
  EXPECT_EQ(result.exit_code, 3) << result;
  EXPECT_EQ(result.err, "casfs: cat: content " + digest + ": not found\n");
}

TEST_F(CliCat, MalformedDigestIsAUsageErrorBeforeAnyOutput) {
  std::string good = Add("good");
  RunResult result = Casfs({"cat", good, "sha256:abc"});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "casfs: cat: invalid checksum digest length: \"sha256:abc\": invalid argument\n");
}

TEST_F(CliCat, CorruptBlobFailsTheCheckNamingBothDigests) {
  std::string digest = Add("original");
  auto parsed = Digest::Parse(digest);
  ASSERT_TRUE(parsed.ok());
  auto path = Layout(root()).BlobPath(*parsed);
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  WriteFile(path, "tampered");
  RunResult result = Casfs({"cat", digest});
  EXPECT_EQ(result.exit_code, 1) << result;
  EXPECT_EQ(result.out, "tampered") << "the bytes already went out; --help says so";
  EXPECT_EQ(result.err, "casfs: cat: " + digest + ": content does not match its digest: it hashes to " +
                            Sha256Of("tampered") + " (8 bytes, already written to stdout): failed precondition\n");
}

}  // namespace
}  // namespace casfs::cli_test
