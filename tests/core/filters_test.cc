#include "core/filters.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace casfs {
namespace {

// An object like a blob's Info: `digest`, `ref` and `labels.<key>`, looked up
// as containerd's content adaptor does (the parts after "labels" re-joined
// with '.'; no labels at all means every label is absent).
struct Item {
  std::string digest;
  std::map<std::string, std::string> labels;
  std::optional<std::string> ref;

  FieldAdaptor Adaptor() const {
    return [this](const std::vector<std::string>& path) -> std::optional<std::string> {
      if (path.empty()) return std::nullopt;
      if (path[0] == "digest") return digest;
      if (path[0] == "ref") return ref;
      if (path[0] == "labels") {
        if (labels.empty()) return std::nullopt;
        std::string key;
        for (size_t i = 1; i < path.size(); ++i) {
          if (i > 1) key += '.';
          key += path[i];
        }
        auto it = labels.find(key);
        if (it == labels.end()) return std::nullopt;
        return it->second;
      }
      return std::nullopt;
    };
  }
};

using Strings = std::vector<std::string>;

const std::string kA = "sha256:3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7";
const std::string kB = "sha256:b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c";
const std::string kC = "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce";

class FilterTest : public testing::Test {
 protected:
  std::vector<Item> items_ = {
      {kA, {{"foo", "bar"}, {"containerd.io/gc.root", "2024"}, {"a.b", "c"}, {"k-1", "v"}}, {}},
      {kB, {{"foo", "a,c"}, {"x", "'a'"}}, {}},
      {kC, {}, {}},
      {kB, {{"foo", "b.r"}, {"empty", ""}}, {}},
  };

  // Which items match, as a string of 0/1, one character per item.
  std::string Matches(const std::vector<std::string>& filters) {
    Result<Filter> filter = Filter::Parse(filters);
    EXPECT_TRUE(filter.ok()) << filter.status().ToString();
    if (!filter.ok()) return "error";
    std::string out;
    for (const Item& item : items_) out += filter->Match(item.Adaptor()) ? '1' : '0';
    return out;
  }
  std::string Matches(const std::string& filter) { return Matches(std::vector{filter}); }
};

TEST_F(FilterTest, DocumentExamples) {
  EXPECT_EQ(Matches("digest==" + kA), "1000");                                // 1
  EXPECT_EQ(Matches("digest~=^sha256:"), "1101");                             // 2
  EXPECT_EQ(Matches("labels.\"containerd.io/gc.root\""), "1000");             // 3
  EXPECT_EQ(Matches("labels.a.b==c"), "1000");                                // 4
  EXPECT_EQ(Matches("labels.\"a.b\"==c"), "1000");                            // 4
  EXPECT_EQ(Matches("labels.\"k-1\"==v"), "1000");                            // 5
  EXPECT_EQ(Matches("labels.foo!=bar"), "0111");                              // 6
  EXPECT_EQ(Matches("labels.foo~=/^(a|b),c$/"), "0100");                      // 7
  EXPECT_EQ(Matches("labels.foo==bar, digest~=^sha256:"), "1000");            // 8
  EXPECT_EQ(Matches(Strings{"labels.foo==a,c"}), "0000");    // ',' is AND
  EXPECT_EQ(Matches(Strings{"labels.foo==bar", "labels.foo==b.r"}), "1001");         // 9
  EXPECT_EQ(Matches("labels.foo~=\"^b\\\\.r$\""), "0001");                    // 11
  EXPECT_EQ(Matches("labels.foo~=^b\\.r$"), "0001");                          // 11
  EXPECT_EQ(Matches("labels.missing~=^$"), "1111");                           // 12
}

TEST_F(FilterTest, RefFieldForIngests) {  // example 10
  items_ = {{"", {}, "default/17/layer-sha256:ab"}, {"", {}, "other/1/x"}, {"", {}, {}}};
  EXPECT_EQ(Matches("ref~=^default/"), "100");
  EXPECT_EQ(Matches("ref"), "110");
}

TEST_F(FilterTest, EmptyOrNoStringsMatchEverything) {
  EXPECT_EQ(Matches(Strings{}), "1111");
  EXPECT_EQ(Matches(""), "1111");
  EXPECT_EQ(Matches(Strings{"digest==nothing", ""}), "1111");
  EXPECT_TRUE(Filter().MatchesEverything());
  EXPECT_TRUE(Filter().Match(items_[0].Adaptor()));
  EXPECT_TRUE(Filter::Parse("")->MatchesEverything());
  EXPECT_FALSE(Filter::Parse("digest")->MatchesEverything());
}

TEST_F(FilterTest, AnEmptyStringDoesNotHideAnErrorInAnother) {
  Result<Filter> filter = Filter::Parse(std::vector<std::string>{"", "digest=="});
  ASSERT_FALSE(filter.ok());
  EXPECT_EQ(filter.status().kind(), ErrorKind::kInvalidArgument);
}

TEST_F(FilterTest, OperatorSemantics) {
  // Presence: an empty value still counts as present.
  EXPECT_EQ(Matches("labels.empty"), "0001");
  EXPECT_EQ(Matches("labels.empty==\"\""), "0001");
  // != and ~= see an absent field as "".
  EXPECT_EQ(Matches("labels.empty!=\"\""), "0000");
  EXPECT_EQ(Matches("labels.foo~=^$"), "0010");
  // == needs presence even for "".
  EXPECT_EQ(Matches("labels.nothing==\"\""), "0000");
  // Field names are case-sensitive; only the first part counts for digest.
  EXPECT_EQ(Matches("DIGEST"), "0000");
  EXPECT_EQ(Matches("digest.x==" + kA), "1000");
  EXPECT_EQ(Matches("size==4"), "0000");
  // A single quote is a literal character in a value.
  EXPECT_EQ(Matches("labels.x=='a'"), "0100");
  // Regexes are unanchored and take flags.
  EXPECT_EQ(Matches("labels.foo~=a"), "1100");
  EXPECT_EQ(Matches("digest~=(?i)SHA512"), "0010");
}

TEST_F(FilterTest, InvalidRegexIsFalseNotAParseError) {
  EXPECT_EQ(Matches("labels.foo~=("), "0000");
  EXPECT_EQ(Matches("labels.foo!=x,labels.foo~=[z-a]"), "0000");
  EXPECT_EQ(Matches(Strings{"labels.foo~=(", "labels.foo==bar"}), "1000");
  // RE2 knows \C (any byte) but Go's regexp does not, so neither do we.
  EXPECT_EQ(Matches("labels.foo~=\\C"), "0000");
  EXPECT_EQ(Matches("labels.foo~=a|\\C"), "0000");
  items_ = {{"", {{"foo", "x\\C"}}, {}}};
  EXPECT_EQ(Matches("labels.foo~=\\\\C"), "1");   // an escaped backslash, then C
  EXPECT_EQ(Matches("labels.foo~=\\Q\\C\\E"), "1");  // quoted literally
}

TEST_F(FilterTest, WhitespaceWhereTheGrammarAllowsIt) {
  EXPECT_EQ(Matches("  labels. foo == bar"), "1000");
  EXPECT_EQ(Matches("labels.foo==bar,\t digest"), "1000");
  EXPECT_EQ(Matches("labels.foo\u3000==bar"), "1000");  // Unicode space
}

TEST_F(FilterTest, QuotedEscapes) {
  items_ = {{"", {{"k", "\a\b\f\n\r\t\v\\\""}}, {}},
            {"", {{"k", "\u00e9\U0001F600A\x41"}}, {}},
            {"", {{"k", std::string("\xff\x00", 2)}}, {}},
            {"", {{"k", "x/y|z"}}, {}}};
  EXPECT_EQ(Matches("labels.k==\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\""), "1000");
  EXPECT_EQ(Matches("labels.k==\"\\u00e9\\U0001F600\\x41\\101\""), "0100");
  EXPECT_EQ(Matches("labels.k==\"\\xff\\000\""), "0010");
  EXPECT_EQ(Matches("labels.k~=/x\\/y/"), "0001");
  EXPECT_EQ(Matches("labels.k~=|y\\|z|"), "0001");
  EXPECT_EQ(Matches("labels.k~=\"x/y\\\\|z\""), "0001");
  EXPECT_EQ(Matches("labels.\"k\"==\"x/y|z\""), "0001");
}

TEST_F(FilterTest, FilterCopiesShareTheParsedSelectors) {
  Result<Filter> parsed = Filter::Parse("labels.foo~=^b");
  ASSERT_TRUE(parsed.ok());
  Filter copy = *parsed;
  EXPECT_TRUE(copy.Match(items_[0].Adaptor()));
  EXPECT_FALSE(copy.Match(items_[1].Adaptor()));
}

// Error texts as containerd 1.6.20 prints them (checked by running its
// filters package); the status appends ": invalid argument".
struct ParseFailure {
  std::string input;
  std::string message;
};

class FilterErrorTest : public testing::TestWithParam<ParseFailure> {};

TEST_P(FilterErrorTest, ContainerdMessage) {
  const ParseFailure& p = GetParam();
  Result<Filter> filter = Filter::Parse(p.input);
  ASSERT_FALSE(filter.ok()) << p.input;
  EXPECT_EQ(filter.status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(filter.status().message(), p.message);
  // The same failure among other, valid strings.
  Result<Filter> among = Filter::Parse(std::vector<std::string>{"digest", p.input, ""});
  ASSERT_FALSE(among.ok());
  EXPECT_EQ(among.status().message(), p.message);
}

const std::string kFieldOrQuoted = "expected field or quoted";
const std::string kAnOperator = R"(expected an operator ("=="|"!="|"~="))";

INSTANTIATE_TEST_SUITE_P(
    Section7_6, FilterErrorTest,
    testing::Values(
        ParseFailure{"labels.foo,", "filters: parse error: [labels.foo,]: " + kFieldOrQuoted},
        ParseFailure{"labels.foo,,x",
                     "filters: parse error: [labels.foo, >|,|< x]: " + kFieldOrQuoted},
        ParseFailure{",labels.foo", "filters: parse error: [ >|,|< labels.foo]: " + kFieldOrQuoted},
        ParseFailure{"labels.", "filters: parse error: [labels.]: " + kFieldOrQuoted},
        ParseFailure{"labels..foo", "filters: parse error: [labels. >|.|< foo]: " + kFieldOrQuoted},
        ParseFailure{".foo", "filters: parse error: [ >|.|< foo]: " + kFieldOrQuoted},
        ParseFailure{"digest==", "filters: parse error: [digest==]: expected value or quoted"},
        ParseFailure{"==", "filters: parse error: [ >|=|< =]: " + kFieldOrQuoted},
        ParseFailure{"x==.y", "filters: parse error: [x== >|.|< y]: expected value or quoted"},
        ParseFailure{"digest=x", "filters: parse error: [digest >|=|< x]: unsupported operator \"=\""},
        ParseFailure{"a===b", "filters: parse error: [a >|=|< ==b]: unsupported operator \"===\""},
        ParseFailure{"a=!b", "filters: parse error: [a >|=|< !b]: unsupported operator \"=!\""},
        ParseFailure{"labels.k-1", "filters: parse error: [labels.k >|-|< 1]: " + kAnOperator},
        ParseFailure{"labels.ns/key==v",
                     "filters: parse error: [labels.ns >|/|< key==v]: quoted literal not terminated"},
        ParseFailure{"x==/v", "filters: parse error: [x== >|/|< v]: quoted literal not terminated"},
        ParseFailure{"labels.\"k-1",
                     "filters: parse error: [labels. >|\"|< k-1]: quoted literal not terminated"},
        ParseFailure{"labels.|foo|",
                     "filters: parse error: [labels. >|||< foo|]: invalid quote encountered"},
        ParseFailure{"x==|v|", "filters: parse error: [x== >|||< v|]: invalid quote encountered"},
        ParseFailure{"a==b ", "filters: parse error: [a==b >| |< ]: unexpected input:  "},
        ParseFailure{"labels .foo", "filters: parse error: [labels  >|.|< foo]: " + kAnOperator},
        ParseFailure{"labels.foo ,x", "filters: parse error: [labels.foo  >|,|< x]: " + kAnOperator},
        ParseFailure{"labels.\"a\\qb\"",
                     "filters: parse error: [labels. >|\"|< a\\qb\"]: illegal escape sequence"},
        ParseFailure{"a==\"\\12\"",
                     "filters: parse error: [a== >|\"|< \\12\"]: illegal numeric escape sequence"},
        ParseFailure{"a==\"\\400\"",
                     "filters: parse error: [a== >|\"|< \\400\"]: unquoting failed: quote syntax error"},
        ParseFailure{" ", "filters: parse error: [ ]: " + kFieldOrQuoted},
        ParseFailure{"'x'", "filters: parse error: [ >|'|< x']: " + kFieldOrQuoted},
        ParseFailure{std::string("a\0", 2),
                     std::string("filters: parse error: [a >|\0|< ]: unexpected null", 49)},
        ParseFailure{"a==\xff", "filters: parse error: [a== >|\xff|< ]: rune error"},
        ParseFailure{"a==\xef\xbf\xbd", "filters: parse error: [a== >|\xef|< \xbf\xbd]: rune error"}));

TEST(FilterErrorTest, StatusStringEndsWithTheKind) {
  Result<Filter> filter = Filter::Parse("digest=x");
  ASSERT_FALSE(filter.ok());
  EXPECT_EQ(filter.status().ToString(),
            "filters: parse error: [digest >|=|< x]: unsupported operator \"=\": invalid argument");
}

}  // namespace
}  // namespace casfs
