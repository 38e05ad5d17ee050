#include "core/digest.h"

#include <gtest/gtest.h>

#include <string>

namespace casfs {
namespace {

const std::string kEmptyHex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(AlgorithmTest, NamesAndSizesRoundTrip) {
  for (Algorithm algorithm : kAllAlgorithms) {
    EXPECT_EQ(AlgorithmFromName(AlgorithmName(algorithm)), algorithm);
  }
  EXPECT_EQ(AlgorithmSize(Algorithm::kSha256), 32u);
  EXPECT_EQ(AlgorithmSize(Algorithm::kSha384), 48u);
  EXPECT_EQ(AlgorithmSize(Algorithm::kSha512), 64u);
  EXPECT_FALSE(AlgorithmFromName("SHA256").has_value());
  EXPECT_FALSE(AlgorithmFromName("md5").has_value());
  EXPECT_FALSE(AlgorithmFromName("").has_value());
}

TEST(DigestTest, ParsesEveryAlgorithm) {
  for (Algorithm algorithm : kAllAlgorithms) {
    std::string hex(2 * AlgorithmSize(algorithm), 'a');
    hex[0] = '0';
    std::string text = std::string(AlgorithmName(algorithm)) + ":" + hex;
    Result<Digest> digest = Digest::Parse(text);
    ASSERT_TRUE(digest.ok()) << digest.status().ToString();
    EXPECT_EQ(digest->algorithm(), algorithm);
    EXPECT_EQ(digest->hex(), hex);
    EXPECT_EQ(digest->algorithm_name(), AlgorithmName(algorithm));
    EXPECT_EQ(digest->ToString(), text);
  }
}

TEST(DigestTest, EmptySha256IsTheWellKnownValue) {
  EXPECT_EQ(EmptySha256().ToString(), "sha256:" + kEmptyHex);
  Result<Digest> parsed = Digest::Parse("sha256:" + kEmptyHex);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, EmptySha256());
}

struct Rejection {
  std::string input;
  std::string reason;
};

class DigestRejectTest : public testing::TestWithParam<Rejection> {};

TEST_P(DigestRejectTest, RejectsWithGoDigestReason) {
  const Rejection& r = GetParam();
  Result<Digest> digest = Digest::Parse(r.input);
  ASSERT_FALSE(digest.ok()) << r.input;
  EXPECT_EQ(digest.status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(digest.status().message().rfind(r.reason, 0), 0u) << digest.status().message();
}

const std::string kFormat = "invalid checksum digest format";
const std::string kLength = "invalid checksum digest length";
const std::string kUnsupported = "unsupported digest algorithm";

INSTANTIATE_TEST_SUITE_P(
    GoDigestRules, DigestRejectTest,
    testing::Values(
        // Rule 1: a ':' neither first nor last.
        Rejection{"", kFormat}, Rejection{"sha256", kFormat}, Rejection{":" + kEmptyHex, kFormat},
        Rejection{"sha256:", kFormat}, Rejection{":", kFormat},
        // Rule 2: unknown algorithm: unsupported when it looks like a digest.
        Rejection{"md5:abc", kUnsupported}, Rejection{"sha1:" + kEmptyHex, kUnsupported},
        Rejection{"foo.bar+baz_q-x:AZaz09=_-", kUnsupported},
        Rejection{"SHA256:" + kEmptyHex, kFormat},  // uppercase algorithm does not look like one
        Rejection{"sha256.:abc", kFormat}, Rejection{".sha:abc", kFormat},
        Rejection{"sh..a:abc", kFormat}, Rejection{"md5:ab/c", kFormat},
        Rejection{"md5:ab:c", kFormat},
        // Rule 3: length before content.
        Rejection{"sha256:abc", kLength}, Rejection{"sha256:" + kEmptyHex + "0", kLength},
        Rejection{"sha384:" + kEmptyHex, kLength}, Rejection{"sha512:" + kEmptyHex, kLength},
        Rejection{"sha256:zz", kLength},
        // Rule 4: lowercase hex of the right length.
        Rejection{"sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                  kFormat},
        Rejection{"sha256:" + std::string(63, 'a') + "g", kFormat},
        Rejection{"sha256:" + std::string(63, 'a') + ":", kFormat},
        Rejection{"sha256:" + std::string(63, 'a') + "\n", kFormat}));

TEST(DigestTest, MessageQuotesTheInput) {
  Result<Digest> digest = Digest::Parse("sha256:abc");
  ASSERT_FALSE(digest.ok());
  EXPECT_NE(digest.status().message().find("\"sha256:abc\""), std::string::npos)
      << digest.status().message();
  Result<Digest> control = Digest::Parse(std::string("a\nb\x01:c", 7));
  ASSERT_FALSE(control.ok());
  EXPECT_EQ(control.status().message().find('\n'), std::string::npos);
}

TEST(DigestTest, FromBytesWritesLowercaseHex) {
  unsigned char bytes[64];
  for (int i = 0; i < 64; ++i) bytes[i] = static_cast<unsigned char>(0xf0 + (i % 16));
  Digest digest = Digest::FromBytes(Algorithm::kSha512, bytes);
  EXPECT_EQ(digest.hex().size(), 128u);
  EXPECT_EQ(digest.hex().substr(0, 6), "f0f1f2");
  EXPECT_TRUE(Digest::IsValidHex(Algorithm::kSha512, digest.hex()));
  Result<Digest> reparsed = Digest::Parse(digest.ToString());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(*reparsed, digest);
}

TEST(DigestTest, IsValidHex) {
  EXPECT_TRUE(Digest::IsValidHex(Algorithm::kSha256, kEmptyHex));
  EXPECT_FALSE(Digest::IsValidHex(Algorithm::kSha384, kEmptyHex));
  EXPECT_FALSE(Digest::IsValidHex(Algorithm::kSha256, kEmptyHex.substr(1)));
  std::string upper = kEmptyHex;
  upper[0] = 'E';
  EXPECT_FALSE(Digest::IsValidHex(Algorithm::kSha256, upper));
  EXPECT_FALSE(Digest::IsValidHex(Algorithm::kSha256, "notahash"));
}

TEST(DigestTest, ComparesAsText) {
  Digest a = *Digest::Parse("sha256:" + std::string(64, 'a'));
  Digest b = *Digest::Parse("sha256:" + std::string(64, 'b'));
  Digest c = *Digest::Parse("sha384:" + std::string(96, '0'));
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);  // "sha256:..." < "sha384:..."
  EXPECT_NE(a, b);
  EXPECT_EQ(a, *Digest::Parse(a.ToString()));
}

}  // namespace
}  // namespace casfs
