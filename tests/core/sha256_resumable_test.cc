#include "core/sha256_resumable.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/digester.h"

namespace casfs {
namespace {

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

Digest OneShot(const std::string& data) {
  return DigestOf(Algorithm::kSha256, data.data(), data.size());
}

// Replaces the trailing checksum so that a deliberately edited body passes
// the checksum and only the structural checks can reject it.
std::string Reseal(std::string snapshot) {
  std::string body = snapshot.substr(0, snapshot.size() - 32);
  Digest sum = DigestOf(Algorithm::kSha256, body.data(), body.size());
  std::string raw;
  for (size_t i = 0; i < sum.hex().size(); i += 2) {
    raw.push_back(static_cast<char>(std::stoi(sum.hex().substr(i, 2), nullptr, 16)));
  }
  return body + raw;
}

TEST(ResumableSha256Test, MatchesEvp) {
  ResumableSha256 hash;
  EXPECT_EQ(hash.Current(), EmptySha256());
  EXPECT_EQ(hash.length(), 0u);
  std::string data = RandomBytes(100000, 1);
  hash.Update(data.data(), data.size());
  EXPECT_EQ(hash.Current(), OneShot(data));
  EXPECT_EQ(hash.length(), data.size());
  EXPECT_EQ(hash.Current(), OneShot(data));  // Current does not end the stream
  hash.Update("x", 1);
  EXPECT_EQ(hash.Current(), OneShot(data + "x"));
  hash.Reset();
  EXPECT_EQ(hash.Current(), EmptySha256());
  EXPECT_EQ(hash.length(), 0u);
}

TEST(ResumableSha256Test, SaveLoadContinueEqualsOneShot) {
  std::string data = RandomBytes(300000, 2);
  std::mt19937_64 rng(3);
  // Cut points on, around and far from block boundaries.
  for (size_t cut : {size_t{0}, size_t{1}, size_t{55}, size_t{56}, size_t{63}, size_t{64},
                     size_t{65}, size_t{4096}, size_t{123457}, data.size()}) {
    ResumableSha256 first;
    // Feed the prefix in uneven pieces.
    size_t fed = 0;
    while (fed < cut) {
      size_t n = std::min<size_t>(cut - fed, 1 + rng() % 1000);
      first.Update(data.data() + fed, n);
      fed += n;
    }
    std::string snapshot = first.Save();
    EXPECT_LT(snapshot.size(), 512u);
    std::optional<ResumableSha256> resumed = ResumableSha256::Load(snapshot);
    ASSERT_TRUE(resumed.has_value()) << "cut " << cut;
    EXPECT_EQ(resumed->length(), cut);
    EXPECT_EQ(resumed->Current(), OneShot(data.substr(0, cut)));
    resumed->Update(data.data() + cut, data.size() - cut);
    EXPECT_EQ(resumed->Current(), OneShot(data)) << "cut " << cut;
    EXPECT_EQ(resumed->length(), data.size());
  }
}

TEST(ResumableSha256Test, SnapshotsChainAcrossManyResumes) {
  std::string data = RandomBytes(50000, 4);
  ResumableSha256 hash;
  std::string snapshot = hash.Save();
  for (size_t at = 0; at < data.size(); at += 777) {
    std::optional<ResumableSha256> loaded = ResumableSha256::Load(snapshot);
    ASSERT_TRUE(loaded.has_value());
    loaded->Update(data.data() + at, std::min<size_t>(777, data.size() - at));
    snapshot = loaded->Save();
  }
  std::optional<ResumableSha256> last = ResumableSha256::Load(snapshot);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->Current(), OneShot(data));
}

TEST(ResumableSha256Test, CopiesAreIndependent) {
  ResumableSha256 a;
  a.Update("ab", 2);
  ResumableSha256 b(a);
  b.Update("c", 1);
  a.Update("x", 1);
  EXPECT_EQ(b.Current(), OneShot("abc"));
  EXPECT_EQ(a.Current(), OneShot("abx"));
  ResumableSha256 c;
  c = b;
  ResumableSha256& alias = c;
  c = alias;  // self-assignment keeps the state
  EXPECT_EQ(c.Current(), OneShot("abc"));
  EXPECT_EQ(c.length(), 3u);
}

TEST(ResumableSha256Test, RejectsEveryFlippedBit) {
  ResumableSha256 hash;
  std::string data = RandomBytes(1000, 5);
  hash.Update(data.data(), data.size());
  std::string snapshot = hash.Save();
  ASSERT_TRUE(ResumableSha256::Load(snapshot).has_value());
  for (size_t i = 0; i < snapshot.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = snapshot;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      ASSERT_FALSE(ResumableSha256::Load(bad).has_value()) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(ResumableSha256Test, RejectsWrongSizes) {
  ResumableSha256 hash;
  std::string snapshot = hash.Save();
  EXPECT_FALSE(ResumableSha256::Load("").has_value());
  EXPECT_FALSE(ResumableSha256::Load(snapshot.substr(0, snapshot.size() - 1)).has_value());
  EXPECT_FALSE(ResumableSha256::Load(snapshot + '\0').has_value());
  EXPECT_FALSE(ResumableSha256::Load(std::string(snapshot.size(), '\0')).has_value());
}

TEST(ResumableSha256Test, RejectsResealedButInconsistentSnapshots) {
  ResumableSha256 hash;
  hash.Update("hello world", 11);
  std::string good = hash.Save();
  ASSERT_TRUE(ResumableSha256::Load(Reseal(good)).has_value());  // Reseal itself is faithful

  std::string bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_FALSE(ResumableSha256::Load(Reseal(bad_magic)).has_value());

  std::string bad_version = good;
  bad_version[8] = 2;
  EXPECT_FALSE(ResumableSha256::Load(Reseal(bad_version)).has_value());

  std::string bad_length = good;  // length 12 but the context says 11 bytes
  bad_length[12] = 12;
  EXPECT_FALSE(ResumableSha256::Load(Reseal(bad_length)).has_value());

  // num (byte count in the partial block) sits after magic, version, length,
  // h[8], Nl, Nh and the 64-byte block.
  std::string bad_num = good;
  bad_num[8 + 4 + 8 + 32 + 4 + 4 + 64] = 12;
  EXPECT_FALSE(ResumableSha256::Load(Reseal(bad_num)).has_value());

  std::string bad_md_len = good;
  bad_md_len[8 + 4 + 8 + 32 + 4 + 4 + 64 + 4] = 28;
  EXPECT_FALSE(ResumableSha256::Load(Reseal(bad_md_len)).has_value());
}

}  // namespace
}  // namespace casfs
