#include "core/label_store.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <chrono>
#include <thread>

#include "tests/core/engine_test_util.h"

namespace casfs {
namespace {

using casfs::testing::Exists;
using casfs::testing::Sha256;
using casfs::testing::TempDir;
using casfs::testing::WriteAll;

// 500 GC references, as containerd's metadata puts on an index: far more
// than the ~4 KiB of attributes ext4 keeps per inode.
Labels ManyGcRefs(int count) {
  Labels labels;
  for (int i = 0; i < count; ++i) {
    labels["containerd.io/gc.ref.content.l." + std::to_string(i)] =
        Sha256("layer " + std::to_string(i)).ToString();
  }
  return labels;
}

class LabelStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CASFS_ASSERT_OK(posix::MakeDirs(layout_.AlgorithmDir(Algorithm::kSha256)));
    blob_ = layout_.BlobPath(digest_);
    WriteAll(blob_, "content");
    auto fd = posix::Open(blob_, O_RDONLY);
    ASSERT_TRUE(fd.ok());
    fd_ = std::move(*fd);
  }

  std::optional<std::string> Attribute() {
    auto value = posix::GetXattr(fd_.get(), Layout::kLabelsXattr.data());
    EXPECT_TRUE(value.ok());
    return value.ok() ? *value : std::nullopt;
  }

  TempDir dir_;
  Layout layout_{dir_.path()};
  LabelStore store_{&layout_};
  Digest digest_ = Sha256("content");
  std::filesystem::path blob_;
  posix::UniqueFd fd_;
};

TEST_F(LabelStoreTest, NoLabelsReadsEmpty) {
  auto labels = store_.Read(fd_.get(), digest_);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_TRUE(labels->empty());
  auto by_path = store_.ReadAt(blob_, digest_);
  ASSERT_TRUE(by_path.ok());
  EXPECT_TRUE(by_path->empty());
}

TEST_F(LabelStoreTest, SmallSetLivesInOneAttribute) {
  Labels labels{{"containerd.io/gc.root", "yes"}, {"a=b", "c\nd"}};
  CASFS_ASSERT_OK(store_.Write(fd_.get(), digest_, labels));
  auto attribute = Attribute();
  ASSERT_TRUE(attribute.has_value());
  EXPECT_EQ(*attribute, EncodeLabels(labels));
  EXPECT_FALSE(Exists(layout_.LabelOverflowPath(digest_)));
  EXPECT_EQ(*store_.Read(fd_.get(), digest_), labels);
  EXPECT_EQ(*store_.ReadAt(blob_, digest_), labels);
}

TEST_F(LabelStoreTest, FiveHundredGcRefsOverflowAndReadBack) {
  const Labels labels = ManyGcRefs(500);
  CASFS_ASSERT_OK(store_.Write(fd_.get(), digest_, labels));
  EXPECT_FALSE(Attribute().has_value());
  EXPECT_TRUE(Exists(layout_.LabelOverflowPath(digest_)));
  auto back = store_.Read(fd_.get(), digest_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->size(), 500u);
  EXPECT_EQ(*back, labels);
  EXPECT_EQ(*store_.ReadAt(blob_, digest_), labels);
}

TEST_F(LabelStoreTest, ShrinkingMovesBackToTheAttribute) {
  CASFS_ASSERT_OK(store_.Write(fd_.get(), digest_, ManyGcRefs(500)));
  Labels small{{"k", "v"}};
  CASFS_ASSERT_OK(store_.Write(fd_.get(), digest_, small));
  EXPECT_TRUE(Attribute().has_value());
  EXPECT_FALSE(Exists(layout_.LabelOverflowPath(digest_)));
  EXPECT_EQ(*store_.Read(fd_.get(), digest_), small);
}

TEST_F(LabelStoreTest, GrowingMovesToOverflowAndDropsTheOldAttribute) {
  CASFS_ASSERT_OK(store_.Write(fd_.get(), digest_, {{"k", "v"}}));
  ASSERT_TRUE(Attribute().has_value());
  CASFS_ASSERT_OK(store_.Write(fd_.get(), digest_, ManyGcRefs(200)));
  EXPECT_FALSE(Attribute().has_value());
  EXPECT_EQ(store_.Read(fd_.get(), digest_)->size(), 200u);
}

TEST_F(LabelStoreTest, EmptySetClearsBothPlaces) {
  CASFS_ASSERT_OK(store_.Write(fd_.get(), digest_, ManyGcRefs(100)));
  CASFS_ASSERT_OK(store_.Write(fd_.get(), digest_, {}));
  EXPECT_FALSE(Attribute().has_value());
  EXPECT_FALSE(Exists(layout_.LabelOverflowPath(digest_)));
  CASFS_ASSERT_OK(store_.Write(fd_.get(), digest_, {{"k", "v"}}));
  CASFS_ASSERT_OK(store_.Write(fd_.get(), digest_, {}));
  EXPECT_FALSE(Attribute().has_value());
  EXPECT_TRUE(store_.Read(fd_.get(), digest_)->empty());
}

TEST_F(LabelStoreTest, AttributeWinsOverAStaleOverflowFile) {
  CASFS_ASSERT_OK(store_.WriteOverflow(digest_, {{"old", "1"}}));
  EXPECT_EQ(*store_.Read(fd_.get(), digest_), (Labels{{"old", "1"}}));
  CASFS_ASSERT_OK(store_.SetAttribute(fd_.get(), {}));  // an explicit empty set
  EXPECT_TRUE(store_.Read(fd_.get(), digest_)->empty());
  CASFS_ASSERT_OK(store_.SetAttribute(fd_.get(), {{"new", "2"}}));
  EXPECT_EQ(*store_.ReadAt(blob_, digest_), (Labels{{"new", "2"}}));
}

TEST_F(LabelStoreTest, RestoreOverflowPutsBackThePriorContent) {
  auto none = store_.ReadOverflowRaw(digest_);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  CASFS_ASSERT_OK(store_.WriteOverflow(digest_, {{"a", "1"}}));
  auto before = store_.ReadOverflowRaw(digest_);
  ASSERT_TRUE(before.ok() && before->has_value());
  CASFS_ASSERT_OK(store_.WriteOverflow(digest_, {{"b", "2"}}));
  CASFS_ASSERT_OK(store_.RestoreOverflow(digest_, *before));
  EXPECT_EQ(*store_.Read(fd_.get(), digest_), (Labels{{"a", "1"}}));
  CASFS_ASSERT_OK(store_.RestoreOverflow(digest_, std::nullopt));
  EXPECT_FALSE(Exists(layout_.LabelOverflowPath(digest_)));
}

TEST_F(LabelStoreTest, CorruptAttributeIsAnError) {
  CASFS_ASSERT_OK(posix::SetXattr(fd_.get(), Layout::kLabelsXattr.data(), "not labels"));
  auto labels = store_.Read(fd_.get(), digest_);
  ASSERT_FALSE(labels.ok());
  EXPECT_TRUE(labels.status().Is(ErrorKind::kInvalidArgument));
}

TEST_F(LabelStoreTest, LockIsExclusive) {
  auto first = store_.Lock(Algorithm::kSha256);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  std::atomic<bool> got{false};
  std::thread other([&] {
    auto second = store_.Lock(Algorithm::kSha256);
    EXPECT_TRUE(second.ok());
    got = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(got.load());
  first->Reset();
  other.join();
  EXPECT_TRUE(got.load());
  EXPECT_TRUE(store_.Lock(Algorithm::kSha512).status().IsNotFound());
}

// Without root, a 0444 file refuses user.* attributes even to its owner;
// the store lends the owner's write bit for the change and restores it.
TEST_F(LabelStoreTest, ReadOnlyBlobTakesLabelsWithoutRoot) {
  ASSERT_EQ(::fchmod(fd_.get(), 0444), 0);
  auto work = [&]() -> bool {
    auto fd = posix::Open(blob_, O_RDONLY);
    if (!fd.ok()) return false;
    LabelStore store(&layout_);
    if (!store.Write(fd->get(), digest_, {{"k", "v"}}).ok()) return false;
    if (!store.Write(fd->get(), digest_, {}).ok()) return false;
    if (!store.Write(fd->get(), digest_, {{"k2", "v2"}}).ok()) return false;
    auto labels = store.Read(fd->get(), digest_);
    struct stat st {};
    ::fstat(fd->get(), &st);
    return labels.ok() && *labels == Labels{{"k2", "v2"}} && (st.st_mode & 07777) == 0444;
  };
  if (::geteuid() != 0) {
    EXPECT_TRUE(work());
    return;
  }
  // As root: hand the store to `nobody` and do the work in a child as them.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path())) {
    ASSERT_EQ(::lchown(entry.path().c_str(), 65534, 65534), 0);
  }
  ASSERT_EQ(::chown(dir_.path().c_str(), 65534, 65534), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    ::_exit(work() ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

// A filesystem without extended attributes (ramfs): every set overflows.
TEST(LabelStoreNoXattrTest, EverythingGoesToTheOverflowFile) {
  TempDir dir;
  if (::mount("none", dir.path().c_str(), "ramfs", 0, nullptr) != 0) {
    GTEST_SKIP() << "cannot mount ramfs here: " << std::strerror(errno);
  }
  struct Unmount {
    const char* path;
    ~Unmount() { ::umount2(path, MNT_DETACH); }
  } unmount{dir.path().c_str()};

  Layout layout(dir.path());
  LabelStore store(&layout);
  const Digest digest = Sha256("x");
  CASFS_ASSERT_OK(posix::MakeDirs(layout.AlgorithmDir(Algorithm::kSha256)));
  WriteAll(layout.BlobPath(digest), "x");
  auto fd = posix::Open(layout.BlobPath(digest), O_RDONLY);
  ASSERT_TRUE(fd.ok());
  Status refused = posix::SetXattr(fd->get(), Layout::kLabelsXattr.data(), "x");
  if (refused.ok()) GTEST_SKIP() << "ramfs here supports user xattrs";
  EXPECT_TRUE(LabelStore::IsOverflowErrno(refused)) << refused.ToString();

  Labels labels{{"k", "v"}};
  CASFS_ASSERT_OK(store.Write(fd->get(), digest, labels));
  EXPECT_TRUE(Exists(layout.LabelOverflowPath(digest)));
  EXPECT_EQ(*store.Read(fd->get(), digest), labels);
  EXPECT_EQ(*store.ReadAt(layout.BlobPath(digest), digest), labels);
  CASFS_ASSERT_OK(store.Write(fd->get(), digest, ManyGcRefs(500)));
  EXPECT_EQ(store.Read(fd->get(), digest)->size(), 500u);
  CASFS_ASSERT_OK(store.Write(fd->get(), digest, {}));
  EXPECT_TRUE(store.Read(fd->get(), digest)->empty());
}

}  // namespace
}  // namespace casfs
