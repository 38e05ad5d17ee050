// casfs ingest: write, resume, commit; its failures.
#include <signal.h>

#include <chrono>
#include <regex>
#include <thread>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/tools/cli_runner.h"

namespace casfs::cli_test {
namespace {

using CliIngest = CliTest;

// The ingest's offset as `casfs active --json` reports it; -1 if absent.
int64_t OffsetOf(CliTest& test, RunResult active, const std::string& ref) {
  (void)test;
  auto json = nlohmann::json::parse(active.out);
  for (const auto& entry : json) {
    if (entry["ref"] == ref) return entry["offset"].get<int64_t>();
  }
  return -1;
}

TEST_F(CliIngest, FromFileCommitsAndPrintsTheDigest) {
  std::string data = RandomBytes(2 << 20, 3);
  RunResult result = Casfs({"ingest", "ref-1", File("f", data)});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, Sha256Of(data) + "\n");
  EXPECT_EQ(result.err, "") << "no progress bar when stderr is not a terminal";
  EXPECT_EQ(Casfs({"active", "-q"}).out, "");
  EXPECT_TRUE(Casfs({"cat", Sha256Of(data)}).out == data);
}

// script(1) gives casfs a terminal: the bar appears, and is erased again.
TEST_F(CliIngest, ProgressBarOnlyOnATerminal) {
  if (!HaveProgram("script")) GTEST_SKIP() << "script(1) is missing";
  std::string file = File("f", RandomBytes(1 << 20, 4));
  RunOptions options;
  options.env = Env();
  RunResult result = RunProgram("script", {"-qec", std::string(CASFS_BINARY) + " ingest r " + file, "/dev/null"}, options);
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_NE(result.out.find(" 100% 1.0 MiB/1.0 MiB "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("/s ETA "), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\r\033[K" + Sha256Of(ReadFile(file))), std::string::npos) << "erased before the digest";
}

TEST_F(CliIngest, FromStandardInputByDefault) {
  RunOptions options;
  options.input = "piped";
  RunResult result = Casfs({"ingest", "ref-1"}, options);
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, Sha256Of("piped") + "\n");
}

TEST_F(CliIngest, NoCommitLeavesItActive) {
  RunResult result = Casfs({"ingest", "--no-commit", "half", File("f", "12345")});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(OffsetOf(*this, Casfs({"--json", "active"}), "half"), 5);
  EXPECT_EQ(Casfs({"ls", "-q"}).out, "");
}

// The resumed ingest must not re-read what it holds: the stored prefix and
// the file's tail make the blob, even when the file's prefix differs.
TEST_F(CliIngest, ResumeFromAFileReadsOnlyTheMissingTail) {
  RunOptions first;
  first.input = "AAAA";
  ASSERT_EQ(Casfs({"ingest", "--no-commit", "r"}, first).exit_code, 0);
  RunResult result = Casfs({"ingest", "r", File("f", "xxxxTAIL")});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, Sha256Of("AAAATAIL") + "\n");
  EXPECT_EQ(Casfs({"cat", Sha256Of("AAAATAIL")}).out, "AAAATAIL");
}

TEST_F(CliIngest, ResumeFromStandardInputSkipsWhatIsHeld) {
  ASSERT_EQ(Casfs({"ingest", "--no-commit", "r", File("f", "AAAA")}).exit_code, 0);
  RunOptions options;
  options.input = "xxxxTAIL";
  RunResult result = Casfs({"ingest", "r", "-"}, options);
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, Sha256Of("AAAATAIL") + "\n");
}

TEST_F(CliIngest, ResumeFromRedirectedFileStdin) {
  ASSERT_EQ(Casfs({"ingest", "--no-commit", "r", File("f", "AAAA")}).exit_code, 0);
  RunOptions options;
  options.stdin_file = File("g", "xxxxTAIL");
  RunResult result = Casfs({"ingest", "r"}, options);
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, Sha256Of("AAAATAIL") + "\n");
}

TEST_F(CliIngest, SourceShorterThanTheIngestIsAFailedPrecondition) {
  ASSERT_EQ(Casfs({"ingest", "--no-commit", "r", File("f", "123456")}).exit_code, 0);
  std::string shorter = File("g", "123");
  RunResult result = Casfs({"ingest", "r", shorter});
  EXPECT_EQ(result.exit_code, 6) << result;
  EXPECT_EQ(result.err, "casfs: ingest: ingest \"r\" already holds 6 bytes but " + shorter +
                            " has only 3; start over with: casfs abort r: failed precondition\n");
  EXPECT_EQ(OffsetOf(*this, Casfs({"--json", "active"}), "r"), 6) << "the ingest is kept";
}

TEST_F(CliIngest, ExpectedDigestMismatchKeepsTheIngest) {
  std::string wrong = Sha256Of("something else");
  RunResult result = Casfs({"ingest", "--expected", wrong, "r", File("f", "content")});
  EXPECT_EQ(result.exit_code, 6) << result;
  EXPECT_EQ(result.err, "casfs: ingest: unexpected commit digest for ref \"r\": expected " + wrong + ", actual " +
                            Sha256Of("content") + ": failed precondition\n");
  EXPECT_EQ(OffsetOf(*this, Casfs({"--json", "active"}), "r"), 7);
  EXPECT_EQ(Casfs({"ls", "-q"}).out, "");
}

TEST_F(CliIngest, ExpectedDigestMatchCommits) {
  RunResult result = Casfs({"ingest", "--expected", Sha256Of("content"), "r", File("f", "content")});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, Sha256Of("content") + "\n");
}

TEST_F(CliIngest, ExpectedDigestAlreadyStoredIsSuccessWithoutReading) {
  std::string digest = Add("stored");
  RunOptions options;
  options.input = "this is not even the content";
  RunResult result = Casfs({"ingest", "--expected", digest, "--label", "k=v", "r"}, options);
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, digest + "\n");
  EXPECT_EQ(Casfs({"ls", "-q", "labels.k==v"}).out, digest + "\n") << "the labels still apply";
}

// An ingest started with --expected sha512:... and resumed without it
// commits under sha512 (its stored expected digest names the blob), and
// prints that name: the digest to cat it by.
TEST_F(CliIngest, ResumePrintsTheDigestTheStoredExpectedNamedItBy) {
  std::string data = RandomBytes(100000, 11);
  std::string file = File("f", data);
  std::string sha512 = DigestOf("sha512", data);
  ASSERT_EQ(Casfs({"ingest", "--no-commit", "--expected", sha512, "r", file}).exit_code, 0);
  RunResult result = Casfs({"ingest", "r", file});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, sha512 + "\n");
  EXPECT_EQ(Casfs({"ls", "-q"}).out, sha512 + "\n");
  EXPECT_TRUE(Casfs({"cat", sha512}).out == data);
}

TEST_F(CliIngest, TotalMismatchIsAFailedPrecondition) {
  RunResult result = Casfs({"ingest", "--total", "100", "r", File("f", "short")});
  EXPECT_EQ(result.exit_code, 6) << result;
  EXPECT_EQ(result.err, "casfs: ingest: unexpected commit size for ref \"r\": expected 100, actual 5: failed precondition\n");
}

TEST_F(CliIngest, MalformedExpectedIsAUsageError) {
  RunResult result = Casfs({"ingest", "--expected", "sha256:XYZ", "r", File("f", "x")});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: ingest: invalid checksum digest length: \"sha256:XYZ\": invalid argument\n");
}

TEST_F(CliIngest, LabelsAreGivenToTheBlob) {
  RunResult result = Casfs({"ingest", "--label", "a=1", "--label", "b=2", "r", File("f", "labelled")});
  ASSERT_EQ(result.exit_code, 0) << result;
  RunResult info = Casfs({"--json", "info", Sha256Of("labelled")});
  auto json = nlohmann::json::parse(info.out);
  EXPECT_EQ(json["labels"], (nlohmann::json{{"a", "1"}, {"b", "2"}}));
}

TEST_F(CliIngest, BadLabelIsAUsageError) {
  RunResult result = Casfs({"ingest", "--label", "=v", "r", File("f", "x")});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: ingest: label key must not be empty: invalid argument\n");
  EXPECT_EQ(Casfs({"active", "-q"}).out, "") << "nothing was started";
}

TEST_F(CliIngest, ReservedLabelIsPermissionDenied) {
  RunResult result = Casfs({"ingest", "--label", "casfs.digest=x", "r", File("f", "x")});
  EXPECT_EQ(result.exit_code, 7) << result;
  EXPECT_EQ(result.err,
            "casfs: ingest: label key casfs.digest is reserved: keys starting with \"casfs.\" belong to the mount: "
            "permission denied\n");
}

TEST_F(CliIngest, MissingFileIsNotFound) {
  std::string missing = (dir() / "missing").string();
  RunResult result = Casfs({"ingest", "r", missing});
  EXPECT_EQ(result.exit_code, 3) << result;
  EXPECT_EQ(result.err, "casfs: ingest: open " + missing + ": No such file or directory: not found\n");
}

TEST_F(CliIngest, SecondWriterOnAnActiveRefIsBusy) {
  Background first(CASFS_BINARY, {"ingest", "shared"}, Env());
  first.Write("first writer's bytes");
  // The first writer holds the ref from the moment `active` lists it.
  for (int i = 0; i < 500 && Casfs({"active", "-q"}).out != "shared\n"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  RunResult second = Casfs({"ingest", "shared", File("f", "second")});
  EXPECT_EQ(second.exit_code, 5) << second;
  // The engine says how long it waited: about its 500 ms lock wait.
  EXPECT_TRUE(std::regex_match(
      second.err, std::regex(R"(casfs: ingest: ref shared locked by another writer \(waited \d+ms\): unavailable\n)")))
      << second;

  RunResult aborted = Casfs({"abort", "shared"});
  EXPECT_EQ(aborted.exit_code, 5) << aborted;

  first.CloseInput();
  RunResult done = first.Wait();
  ASSERT_EQ(done.exit_code, 0) << done;
  EXPECT_EQ(done.out, Sha256Of("first writer's bytes") + "\n");
}

TEST_F(CliIngest, InterruptKeepsWhatArrivedForTheResume) {
  Background writer(CASFS_BINARY, {"ingest", "slow"}, Env());
  writer.Write("part one|");
  // Once the ref is listed, casfs has its interrupt handler and is reading.
  for (int i = 0; i < 500 && Casfs({"active", "-q"}).out != "slow\n"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  writer.Signal(SIGINT);
  RunResult stopped = writer.Wait();
  EXPECT_EQ(stopped.exit_code, 130) << stopped;
  EXPECT_EQ(stopped.err, "casfs: ingest: interrupted; \"slow\" keeps 9 bytes, the same command resumes it\n");
  EXPECT_EQ(OffsetOf(*this, Casfs({"--json", "active"}), "slow"), 9);

  RunOptions rest;
  rest.input = "part one|part two";
  RunResult resumed = Casfs({"ingest", "slow"}, rest);
  ASSERT_EQ(resumed.exit_code, 0) << resumed;
  EXPECT_EQ(resumed.out, Sha256Of("part one|part two") + "\n");
}

}  // namespace
}  // namespace casfs::cli_test
