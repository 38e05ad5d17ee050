#include "core/labels.h"

#include <gtest/gtest.h>

#include <string>

namespace casfs {
namespace {

TEST(ValidateLabelTest, SizeRuleExactlyAtTheBoundary) {
  EXPECT_TRUE(ValidateLabel("k", std::string(kMaxLabelSize - 1, 'v')).ok());
  EXPECT_TRUE(ValidateLabel(std::string(kMaxLabelSize, 'k'), "").ok());
  EXPECT_TRUE(ValidateLabel(std::string(2000, 'k'), std::string(2096, 'v')).ok());

  Status too_big = ValidateLabel("containerd.io/x", std::string(kMaxLabelSize - 14, 'v'));
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(too_big.message(),
            "label key and value greater than maximum size (4096 bytes), key: containerd");
  Status key_alone = ValidateLabel(std::string(kMaxLabelSize + 1, 'k'), "");
  EXPECT_EQ(key_alone.kind(), ErrorKind::kInvalidArgument);
}

TEST(ValidateLabelTest, ShortKeyIsQuotedWhole) {
  Status s = ValidateLabel("abc", std::string(kMaxLabelSize, 'v'));
  EXPECT_EQ(s.message(), "label key and value greater than maximum size (4096 bytes), key: abc");
}

TEST(ValidateLabelTest, EmptyKeyIsInvalid) {
  EXPECT_EQ(ValidateLabel("", "v").kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(ValidateLabel("", "").kind(), ErrorKind::kInvalidArgument);
}

TEST(ValidateLabelTest, CasfsPrefixIsReserved) {
  EXPECT_EQ(ValidateLabel("casfs.digest", "x").kind(), ErrorKind::kPermissionDenied);
  EXPECT_EQ(ValidateLabel("casfs.", "").kind(), ErrorKind::kPermissionDenied);
  EXPECT_TRUE(ValidateLabel("casfs", "x").ok());
  EXPECT_TRUE(ValidateLabel("casfsx", "x").ok());
  EXPECT_TRUE(ValidateLabel("Casfs.x", "x").ok());
  EXPECT_TRUE(ValidateLabel("x.casfs.y", "x").ok());
}

TEST(ValidateLabelTest, AnyKeyCharactersAreFine) {
  EXPECT_TRUE(ValidateLabel("containerd.io/gc.ref.content.l.0", "sha256:abc").ok());
  EXPECT_TRUE(ValidateLabel("a key with spaces=and%odd\nbytes", "").ok());
  EXPECT_TRUE(ValidateLabel(std::string("nul\0key", 7), std::string("\0", 1)).ok());
}

TEST(ValidateLabelsTest, ReportsTheFirstBadLabel) {
  EXPECT_TRUE(ValidateLabels({}).ok());
  EXPECT_TRUE(ValidateLabels({{"a", "1"}, {"b", "2"}}).ok());
  Labels labels = {{"a", "1"}, {"casfs.x", "2"}, {"z", std::string(5000, 'v')}};
  EXPECT_EQ(ValidateLabels(labels).kind(), ErrorKind::kPermissionDenied);
  labels.erase("casfs.x");
  EXPECT_EQ(ValidateLabels(labels).kind(), ErrorKind::kInvalidArgument);
}

TEST(EncodeLabelsTest, FormatIsTheDocumentedOne) {
  EXPECT_EQ(EncodeLabels({}), "casfs-labels 1\n");
  EXPECT_EQ(EncodeLabels({{"b", "2"}, {"a", "1"}}), "casfs-labels 1\na=1\nb=2\n");
  EXPECT_EQ(EncodeLabels({{"k=%", std::string("a\nb\0c", 5)}}),
            "casfs-labels 1\nk%3D%25=a%0Ab%00c\n");
  EXPECT_EQ(EncodeLabels({{"empty", ""}}), "casfs-labels 1\nempty=\n");
}

TEST(EncodeLabelsTest, AwkwardLabelsRoundTrip) {
  Labels labels = {
      {"", "empty key survives encoding"},
      {"containerd.io/gc.root", "2024-01-01T00:00:00Z"},
      {"empty", ""},
      {"eq=in=key", "eq=in=value=="},
      {"pct%25", "%3D%%0A%"},
      {"nl\nkey", "\n\n"},
      {std::string("nul\0key", 7), std::string("\0\0", 2)},
      {"utf8 ключ", "значение \xff\xfe invalid utf8 too"},
      {std::string(kMaxLabelSize, 'k'), ""},
      {"v", std::string(kMaxLabelSize, '=')},
      {"cr\r", "tab\t"},
  };
  std::string text = EncodeLabels(labels);
  Result<Labels> decoded = DecodeLabels(text, "test");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, labels);
  EXPECT_EQ(text.find('\0'), std::string::npos);
}

class DecodeRejectTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DecodeRejectTest, RejectsMalformedText) {
  Result<Labels> decoded = DecodeLabels(GetParam(), "/store/blobs/sha256/ab");
  ASSERT_FALSE(decoded.ok()) << GetParam();
  EXPECT_EQ(decoded.status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find("/store/blobs/sha256/ab"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, DecodeRejectTest,
    ::testing::Values("", "casfs-labels 1", "casfs-labels 2\n", "casfs-labels 1 \n",
                    "Casfs-labels 1\n", "\ncasfs-labels 1\n", "casfs-labels 1\na=1",
                    "casfs-labels 1\nnoequals\n", "casfs-labels 1\na=1=2\n",
                    "casfs-labels 1\nb=1\na=2\n", "casfs-labels 1\na=1\na=2\n",
                    "casfs-labels 1\na=%3d\n", "casfs-labels 1\na=%0a\n", "casfs-labels 1\na=%\n",
                    "casfs-labels 1\na=%2\n", "casfs-labels 1\na=%41\n", "casfs-labels 1\n%zz=1\n",
                    std::string("casfs-labels 1\na=\0\n", 19), "casfs-labels 1\n\n",
                    "casfs-labels 1\na=1\n\n"));

TEST(DecodeLabelsTest, SortsByDecodedKey) {
  // Order is that of the decoded keys: '=' (0x3d) before 'A' (0x41), although
  // its escape "%3D" starts with '%' (0x25).
  Labels labels = {{"=", "1"}, {"A", "2"}};
  std::string text = EncodeLabels(labels);
  EXPECT_EQ(text, "casfs-labels 1\n%3D=1\nA=2\n");
  EXPECT_TRUE(DecodeLabels(text, "t").ok());
  EXPECT_FALSE(DecodeLabels("casfs-labels 1\nA=2\n%3D=1\n", "t").ok());
  // Bytes sort as unsigned: 0xff after 'z'.
  Labels high = {{"z", "1"}, {"\xff", "2"}};
  Result<Labels> decoded = DecodeLabels(EncodeLabels(high), "t");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, high);
}

}  // namespace
}  // namespace casfs
