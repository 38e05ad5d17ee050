#include "core/digester.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace casfs {
namespace {

// FIPS 180-2 test vectors.
const std::string kAbc256 = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const std::string kAbc384 =
    "sha384:cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca1"
    "34c825a7";
const std::string kAbc512 =
    "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23"
    "a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
const std::string kMillionA256 =
    "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(DigesterTest, KnownVectorsForEveryAlgorithm) {
  EXPECT_EQ(DigestOf(Algorithm::kSha256, "abc", 3).ToString(), kAbc256);
  EXPECT_EQ(DigestOf(Algorithm::kSha384, "abc", 3).ToString(), kAbc384);
  EXPECT_EQ(DigestOf(Algorithm::kSha512, "abc", 3).ToString(), kAbc512);
  for (Algorithm algorithm : kAllAlgorithms) {
    Digester digester(algorithm);
    digester.Update("a", 1);
    digester.Update("bc", 2);
    EXPECT_EQ(digester.Current(), DigestOf(algorithm, "abc", 3));
    EXPECT_EQ(digester.algorithm(), algorithm);
  }
}

TEST(DigesterTest, EmptyStreamIsEmptyDigest) {
  Digester digester(Algorithm::kSha256);
  EXPECT_EQ(digester.Current(), EmptySha256());
  digester.Update(nullptr, 0);
  EXPECT_EQ(digester.Current(), EmptySha256());
}

TEST(DigesterTest, CurrentDoesNotEndTheStream) {
  Digester digester(Algorithm::kSha256);
  std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) {
    digester.Update(chunk.data(), chunk.size());
    if (i % 97 == 0) {
      std::string so_far(static_cast<size_t>(i + 1) * chunk.size(), 'a');
      ASSERT_EQ(digester.Current(), DigestOf(Algorithm::kSha256, so_far.data(), so_far.size()));
    }
  }
  EXPECT_EQ(digester.Current().ToString(), kMillionA256);
  EXPECT_EQ(digester.Current().ToString(), kMillionA256);  // asking twice changes nothing
}

TEST(DigesterTest, ResetStartsOver) {
  Digester digester(Algorithm::kSha384);
  digester.Update("garbage", 7);
  digester.Reset();
  digester.Update("abc", 3);
  EXPECT_EQ(digester.Current().ToString(), kAbc384);
}

TEST(DigesterTest, MoveKeepsTheState) {
  Digester first(Algorithm::kSha512);
  first.Update("ab", 2);
  Digester second = std::move(first);
  second.Update("c", 1);
  EXPECT_EQ(second.Current().ToString(), kAbc512);
  Digester third(Algorithm::kSha256);
  third = std::move(second);
  EXPECT_EQ(third.algorithm(), Algorithm::kSha512);
  EXPECT_EQ(third.Current().ToString(), kAbc512);
}

}  // namespace
}  // namespace casfs
