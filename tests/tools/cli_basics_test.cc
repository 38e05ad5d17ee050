// Global behaviour: help, usage errors, where the store lives.
#include <filesystem>

#include "gtest/gtest.h"
#include "tests/tools/cli_runner.h"

namespace casfs::cli_test {
namespace {

const std::vector<std::string> kCommands = {"mount", "ingest", "add",    "cat",    "get",   "ls",    "info",
                                            "label", "rm",     "active", "abort", "verify", "import", "export"};

using CliBasics = CliTest;

TEST_F(CliBasics, HelpListsEveryCommandAndTheExitCodes) {
  RunResult result = Casfs({"--help"});
  ASSERT_EQ(result.exit_code, 0) << result;
  for (const auto& command : kCommands) EXPECT_NE(result.out.find(command), std::string::npos) << command;
  EXPECT_NE(result.out.find("Exit status"), std::string::npos);
  EXPECT_NE(result.out.find("docs/cli.md"), std::string::npos);
  EXPECT_EQ(result.err, "");
}

TEST_F(CliBasics, EveryCommandHasHelpWithExamples) {
  for (const auto& command : kCommands) {
    RunResult result = Casfs({command, "--help"});
    EXPECT_EQ(result.exit_code, 0) << command << ": " << result;
    EXPECT_NE(result.out.find("Examples:"), std::string::npos) << command << ": " << result;
    EXPECT_NE(result.out.find("Usage:"), std::string::npos) << command;
  }
}

TEST_F(CliBasics, NoCommandIsAUsageError) {
  RunResult result = Casfs({});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.out, "");
  EXPECT_NE(result.err.find("Subcommands:"), std::string::npos) << result;
}

TEST_F(CliBasics, UnknownCommandIsNamed) {
  RunResult result = Casfs({"frob"});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: 'frob' is not a casfs command (see 'casfs --help')\n");
}

TEST_F(CliBasics, UnknownOptionIsNamedWithTheCommand) {
  RunResult result = Casfs({"ls", "--bogus"});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: ls: unexpected argument '--bogus' (see 'casfs ls --help')\n");
}

TEST_F(CliBasics, ExtraPositionalIsAUsageError) {
  RunResult result = Casfs({"info", Sha256Of("a"), Sha256Of("b")});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: info: unexpected argument '" + Sha256Of("b") + "' (see 'casfs info --help')\n");
}

TEST_F(CliBasics, MissingArgumentIsAUsageError) {
  RunResult result = Casfs({"cat"});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: cat: DIGEST is required (see 'casfs cat --help')\n");
}

TEST_F(CliBasics, BadLogLevelIsAUsageError) {
  RunResult result = Casfs({"--log-level", "loud", "ls"});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_NE(result.err.find("--log-level"), std::string::npos) << result;
}

TEST_F(CliBasics, GlobalOptionsMayFollowTheCommand) {
  Add("x");
  RunResult result = Casfs({"ls", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out.front(), '[');
}

TEST_F(CliBasics, RootFromCasfsRootIsCreatedOnFirstUse) {
  ASSERT_FALSE(std::filesystem::exists(root()));
  RunResult result = Casfs({"ls", "-q"});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(std::filesystem::is_directory(root() / "ingest"));
}

TEST_F(CliBasics, RootOptionWinsOverTheEnvironment) {
  std::string digest = Add("in the env root");
  auto other = dir() / "other";
  RunResult result = Casfs({"--root", other.string(), "ls", "-q"});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(std::filesystem::is_directory(other / "ingest"));
  EXPECT_EQ(Casfs({"ls", "-q"}).out, digest + "\n");
}

TEST_F(CliBasics, DefaultRootIsTheUsersDataFolder) {
  auto home = dir() / "home";
  std::filesystem::create_directories(home);
  RunOptions options;
  options.env = {{"CASFS_ROOT", ""}, {"XDG_DATA_HOME", ""}, {"HOME", home.string()}};
  RunResult added = Casfs({"add", File("f", "data")}, options);
  ASSERT_EQ(added.exit_code, 0) << added;
  EXPECT_TRUE(std::filesystem::exists(home / ".local/share/casfs/blobs/sha256" / Sha256Of("data").substr(7)));

  options.env["XDG_DATA_HOME"] = (dir() / "xdg").string();
  ASSERT_EQ(Casfs({"add", File("g", "more")}, options).exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(dir() / "xdg/casfs/blobs/sha256" / Sha256Of("more").substr(7)));
}

TEST_F(CliBasics, NoRootAtAllIsAUsageError) {
  RunOptions options;
  options.env = {{"CASFS_ROOT", ""}, {"XDG_DATA_HOME", ""}, {"HOME", ""}};
  RunResult result = Casfs({"ls"}, options);
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err,
            "casfs: ls: no store root: pass --root DIR or set CASFS_ROOT (HOME is not set either): invalid argument\n");
}

TEST_F(CliBasics, VersionPrints) {
  RunResult result = Casfs({"--version"});
  EXPECT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out.rfind("casfs ", 0), 0u) << result;
}

}  // namespace
}  // namespace casfs::cli_test
