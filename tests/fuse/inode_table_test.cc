#include "fuse/inode_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace casfs::fuse {
namespace {

std::string Hex(char c) { return std::string(64, c); }

TEST(InodeTableTest, FixedFolders) {
  EXPECT_EQ(FixedNode(kRootIno)->kind, NodeKind::kRoot);
  EXPECT_EQ(FixedNode(kBlobsIno)->kind, NodeKind::kBlobsDir);
  EXPECT_EQ(FixedNode(kIngestIno)->kind, NodeKind::kIngestDir);
  for (Algorithm algorithm : kAllAlgorithms) {
    auto key = FixedNode(AlgorithmDirIno(algorithm));
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(key->kind, NodeKind::kAlgorithmDir);
    EXPECT_EQ(key->algorithm, algorithm);
  }
  EXPECT_FALSE(FixedNode(kFirstDynamicIno).has_value());
  InodeTable table;
  EXPECT_EQ(table.Resolve(kIngestIno)->kind, NodeKind::kIngestDir);
}

TEST(InodeTableTest, NumbersAreStableAcrossForgetAndLookup) {
  InodeTable table;
  NodeKey blob = NodeKey::Blob(Algorithm::kSha256, Hex('a'));
  NodeKey ingest = NodeKey::Ingest("my/ref");
  Ino b = table.Acquire(blob);
  Ino i = table.Acquire(ingest);
  EXPECT_NE(b, i);
  EXPECT_GE(b, kFirstDynamicIno);
  EXPECT_GE(i, kFirstDynamicIno);
  EXPECT_EQ(table.Acquire(blob), b);
  EXPECT_EQ(table.Resolve(b), blob);
  EXPECT_EQ(table.Resolve(i), ingest);
  table.Forget(b, 2);
  table.Forget(i, 1);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.Resolve(b).has_value());
  EXPECT_EQ(table.Peek(blob), b);
  EXPECT_EQ(table.Acquire(blob), b);
  EXPECT_EQ(table.Acquire(ingest), i);
}

TEST(InodeTableTest, SameHexUnderTwoAlgorithmsDiffers) {
  InodeTable table;
  Ino a = table.Acquire(NodeKey::Blob(Algorithm::kSha256, Hex('b')));
  Ino b = table.Acquire(NodeKey::Blob(Algorithm::kSha512, std::string(128, 'b')));
  EXPECT_NE(a, b);
}

TEST(InodeTableTest, LookupCountsKeepANodeUntilTheLastForget) {
  InodeTable table;
  NodeKey key = NodeKey::Ingest("r");
  Ino ino = table.Acquire(key);
  table.Acquire(key);
  table.Acquire(key);
  table.Forget(ino, 2);
  EXPECT_EQ(table.Resolve(ino), key);
  table.Forget(ino, 1);
  EXPECT_FALSE(table.Resolve(ino).has_value());
  // Forgetting unknown or fixed numbers is harmless.
  table.Forget(ino, 1);
  table.Forget(kRootIno, 1);
  EXPECT_EQ(table.Resolve(kRootIno)->kind, NodeKind::kRoot);
}

TEST(InodeTableTest, CollidingKeysGetDistinctNumbersAndKeepThem) {
  // Two blobs whose hex share the leading 64 bits derive the same number.
  InodeTable table;
  NodeKey first = NodeKey::Blob(Algorithm::kSha256, std::string(16, 'c') + std::string(48, '0'));
  NodeKey second = NodeKey::Blob(Algorithm::kSha256, std::string(16, 'c') + std::string(48, '1'));
  ASSERT_EQ(InodeTable::DerivedIno(first), InodeTable::DerivedIno(second));
  Ino a = table.Acquire(first);
  Ino b = table.Acquire(second);
  EXPECT_NE(a, b);
  EXPECT_EQ(table.Resolve(b), second);
  // With the first gone, the second is still found under its own number.
  table.Forget(a, 1);
  EXPECT_EQ(table.Acquire(second), b);
  EXPECT_EQ(table.Peek(second), b);
  table.Forget(b, 2);
  EXPECT_EQ(table.size(), 0u);
}

TEST(InodeTableTest, RebindMakesTheIngestInodeTheBlob) {
  InodeTable table;
  Ino ingest = table.Acquire(NodeKey::Ingest("r"));
  NodeKey blob = NodeKey::Blob(Algorithm::kSha256, Hex('d'));
  table.Rebind(ingest, blob);
  EXPECT_EQ(table.Resolve(ingest), blob);
  EXPECT_EQ(table.Acquire(blob), ingest);  // the blob had no node: this one is it
  // A new ingest of the same ref cannot take the number while the blob has it.
  EXPECT_NE(table.Peek(NodeKey::Ingest("r")), ingest);
  table.Forget(ingest, 2);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.Acquire(blob), InodeTable::DerivedIno(blob));
}

TEST(InodeTableTest, RebindOntoAKnownBlobKeepsBothAlive) {
  InodeTable table;
  NodeKey blob = NodeKey::Blob(Algorithm::kSha256, Hex('e'));
  Ino existing = table.Acquire(blob);
  Ino ingest = table.Acquire(NodeKey::Ingest("r"));
  table.Rebind(ingest, blob);
  EXPECT_EQ(table.Resolve(ingest), blob);
  EXPECT_EQ(table.Acquire(blob), existing);
  table.Forget(existing, 2);
  EXPECT_EQ(table.Resolve(ingest), blob);
  table.Forget(ingest, 1);
  EXPECT_EQ(table.size(), 0u);
}

TEST(InodeTableTest, MillionsOfLookupsLeaveNothingBehind) {
  InodeTable table;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&table, t] {
      for (int i = 0; i < 250000; ++i) {
        NodeKey key = NodeKey::Ingest("ref-" + std::to_string(t) + "-" + std::to_string(i % 1000));
        Ino ino = table.Acquire(key);
        table.Forget(ino, 1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(table.size(), 0u);
}

TEST(InodeTableTest, ManyLiveNodesHaveDistinctNumbers) {
  InodeTable table;
  std::set<Ino> seen;
  for (int i = 0; i < 20000; ++i) {
    Ino ino = table.Acquire(NodeKey::Ingest("ref-" + std::to_string(i)));
    EXPECT_TRUE(seen.insert(ino).second);
  }
  EXPECT_EQ(table.size(), 20000u);
}

}  // namespace
}  // namespace casfs::fuse
