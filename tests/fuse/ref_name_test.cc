#include "fuse/ref_name.h"

#include <gtest/gtest.h>

namespace casfs::fuse {
namespace {

std::string Encode(std::string_view ref) {
  auto name = EncodeRefName(ref);
  EXPECT_TRUE(name.ok()) << name.status().ToString();
  return name.ok() ? *name : std::string();
}

TEST(RefNameTest, PlainRefIsItsOwnName) {
  EXPECT_EQ(Encode("myref"), "myref");
  EXPECT_EQ(Encode("layer-sha256:ab12 with spaces"), "layer-sha256:ab12 with spaces");
}

TEST(RefNameTest, EscapesPercentAndSlash) {
  EXPECT_EQ(Encode("default/17/x"), "default%2F17%2Fx");
  EXPECT_EQ(Encode("100%"), "100%25");
  EXPECT_EQ(Encode("%2F"), "%252F");
}

TEST(RefNameTest, DotRefsHaveTheirOwnNames) {
  EXPECT_EQ(Encode("."), "%2E");
  EXPECT_EQ(Encode(".."), "%2E%2E");
  EXPECT_EQ(Encode("..."), "...");
  EXPECT_EQ(Encode(".x"), ".x");
}

TEST(RefNameTest, RefsWithoutAFileName) {
  EXPECT_TRUE(EncodeRefName("").status().Is(ErrorKind::kInvalidArgument));
  EXPECT_TRUE(EncodeRefName(std::string_view("a\0b", 3)).status().Is(ErrorKind::kInvalidArgument));
  EXPECT_TRUE(EncodeRefName(std::string(255, 'x')).ok());
  EXPECT_TRUE(EncodeRefName(std::string(256, 'x')).status().Is(ErrorKind::kInvalidArgument));
  // 85 slashes need 255 bytes; 86 would need 258.
  EXPECT_TRUE(EncodeRefName(std::string(85, '/')).ok());
  EXPECT_TRUE(EncodeRefName(std::string(86, '/')).status().Is(ErrorKind::kInvalidArgument));
}

TEST(RefNameTest, DecodesEveryEscape) {
  EXPECT_EQ(*DecodeRefName("default%2F17%2Fx"), "default/17/x");
  EXPECT_EQ(*DecodeRefName("100%25"), "100%");
  EXPECT_EQ(*DecodeRefName("%252F"), "%2F");
  EXPECT_EQ(*DecodeRefName("%2E"), ".");
  EXPECT_EQ(*DecodeRefName("%2E%2E"), "..");
  EXPECT_EQ(*DecodeRefName("..."), "...");
}

TEST(RefNameTest, RefusesEveryOtherPercentSequence) {
  for (const char* name : {"%2f", "%41", "x%2E", "%2Ex", "%2E%2E%2E", "%", "a%", "a%2", "%2", "%%",
                           "%2E.", ".%2E"}) {
    EXPECT_TRUE(DecodeRefName(name).status().Is(ErrorKind::kInvalidArgument)) << name;
  }
}

TEST(RefNameTest, RefusesNamesThatAreNotFiles) {
  for (std::string_view name : {std::string_view(""), std::string_view("."), std::string_view(".."),
                                std::string_view("a/b"), std::string_view("a\0b", 3)}) {
    EXPECT_TRUE(DecodeRefName(name).status().Is(ErrorKind::kInvalidArgument));
  }
  EXPECT_TRUE(DecodeRefName(std::string(256, 'x')).status().Is(ErrorKind::kInvalidArgument));
}

TEST(RefNameTest, RoundTripsEveryByte) {
  for (int c = 1; c < 256; ++c) {
    std::string ref = "r" + std::string(1, static_cast<char>(c)) + "r";
    auto name = EncodeRefName(ref);
    ASSERT_TRUE(name.ok());
    auto back = DecodeRefName(*name);
    ASSERT_TRUE(back.ok()) << *name;
    EXPECT_EQ(*back, ref);
  }
}

}  // namespace
}  // namespace casfs::fuse
