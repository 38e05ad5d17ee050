// casfs active and casfs abort.
#include <regex>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/tools/cli_runner.h"

namespace casfs::cli_test {
namespace {

class CliActive : public CliTest {
 protected:
  void Start(const std::string& ref, const std::string& data, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"ingest", "--no-commit"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(ref);
    RunOptions options;
    options.input = data;
    RunResult result = Casfs(args, options);
    ASSERT_EQ(result.exit_code, 0) << result;
  }
};

TEST_F(CliActive, TableListsRefOffsetTotalAndAges) {
  Start("dl-1", std::string(2048, 'x'), {"--total", "4096"});
  Start("other", "abc");
  RunResult result = Casfs({"active"});
  ASSERT_EQ(result.exit_code, 0) << result;
  // Ages depend on the clock; everything else is exact, columns aligned.
  const std::string age = "(Less than a second|1 second|\\d+ seconds) ago";
  const std::regex table("REF    OFFSET   TOTAL    STARTED +UPDATED\n"
                         "dl-1   2.0 KiB  4\\.0 KiB  " + age + " +" + age + "\n"
                         "other  3 B      -        " + age + " +" + age + "\n");
  EXPECT_TRUE(std::regex_match(result.out, table)) << result.out;
}

TEST_F(CliActive, JsonHasExactNumbersAndTimes) {
  Start("dl-1", std::string(2048, 'x'), {"--total", "4096", "--expected", Sha256Of(std::string(4096, 'x'))});
  RunResult result = Casfs({"active", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result;
  auto json = nlohmann::json::parse(result.out);
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["ref"], "dl-1");
  EXPECT_EQ(json[0]["offset"], 2048);
  EXPECT_EQ(json[0]["total"], 4096);
  const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z)");
  EXPECT_TRUE(std::regex_match(json[0]["started_at"].get<std::string>(), rfc3339)) << json;
  EXPECT_TRUE(std::regex_match(json[0]["updated_at"].get<std::string>(), rfc3339)) << json;
  EXPECT_TRUE(json[0].contains("expected")) << json;
}

TEST_F(CliActive, FilterOnRef) {
  Start("dl-1", "a");
  Start("dl-2", "b");
  Start("up-1", "c");
  EXPECT_EQ(Casfs({"active", "-q", "ref~=^dl-"}).out, "dl-1\ndl-2\n");
  EXPECT_EQ(Casfs({"active", "-q", "ref==up-1"}).out, "up-1\n");
}

TEST_F(CliActive, MalformedFilterIsAUsageError) {
  RunResult result = Casfs({"active", "ref=="});
  EXPECT_EQ(result.exit_code, 2) << result;
  EXPECT_EQ(result.err, "casfs: active: filters: parse error: [ref==]: expected value or quoted: invalid argument\n");
}

TEST_F(CliActive, AbortRemovesIngests) {
  Start("a", "1");
  Start("b", "2");
  Start("c", "3");
  RunResult result = Casfs({"abort", "a", "c"});
  ASSERT_EQ(result.exit_code, 0) << result;
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(Casfs({"active", "-q"}).out, "b\n");
}

TEST_F(CliActive, AbortUnknownRefIsNotFound) {
  Start("b", "2");
  RunResult result = Casfs({"abort", "nope", "b"});
  EXPECT_EQ(result.exit_code, 3) << result;
  EXPECT_EQ(result.err, "casfs: abort: ingest for ref \"nope\": not found\n");
  EXPECT_EQ(Casfs({"active", "-q"}).out, "") << "the others are still aborted";
  EXPECT_EQ(Casfs({"abort", "-f", "nope"}).exit_code, 0);
}

}  // namespace
}  // namespace casfs::cli_test
