// Commit by rename: every check of the contract, in its order, and that
// every refusal leaves the ingest exactly as it was.
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "tests/fuse/mount_test_util.h"

namespace casfs::fuse::testing {
namespace {

int Renameat2(const fs::path& from, const fs::path& to, unsigned flags) {
  return static_cast<int>(::syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), flags));
}

// The ingest's backing folder, byte for byte, and its view in the mount.
struct IngestState {
  std::string folder;
  std::string data;
  std::optional<std::string> updated;
  bool operator==(const IngestState&) const = default;
  friend void PrintTo(const IngestState& s, std::ostream* os) {
    *os << "folder {" << s.folder << "} data \"" << s.data << "\" updatedat " << s.updated.value_or("-");
  }
};

// The engine's hash checkpoint (casfs.hashstate) is left out: it caches the
// running hash of the data, and any writer's close may write it; the data
// and every status file must stay byte for byte.
IngestState StateOf(const MountFixture& mount, const std::string& ref) {
  SettleIngest(mount, ref);
  return {SnapshotDir(IngestDirOf(mount.root(), ref), {"casfs.hashstate"}), ReadAll(mount.Ingest(ref)),
          GetXattr(mount.Ingest(ref), "user.casfs.updatedat")};
}

TEST(MountCommitTest, MvCommitsTheIngest) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  std::string content = "committed content\n";
  std::string hex = Sha256Hex(content);
  WriteAll(mount.Ingest("c"), content);
  Timestamp before = Timestamp::Now();
  ASSERT_EQ(Sh("mv " + Q(mount.Ingest("c")) + " " + Q(mount.Blob(hex))), 0);
  EXPECT_FALSE(fs::exists(mount.Ingest("c")));
  EXPECT_EQ(ReadAll(mount.Blob(hex)), content);
  struct stat st {};
  ASSERT_EQ(::stat(mount.Blob(hex).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode, S_IFREG | 0444);
  EXPECT_EQ(st.st_size, static_cast<off_t>(content.size()));
  auto store = OpenStore(mount);
  auto info = store->Info(Sha256Of(hex));
  ASSERT_TRUE(info.ok());
  EXPECT_GE(info->created_at, before);
  EXPECT_EQ(info->created_at, info->updated_at);
  EXPECT_TRUE(store->GetStatus("c").status().IsNotFound());
  // The backing file is the store's blob.
  EXPECT_EQ(ReadAll(mount.root() / "blobs/sha256" / hex), content);
}

TEST(MountCommitTest, CommitRightAfterWriteAndClose) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  // cp then mv in one shell: the rename may arrive before the release.
  std::string script;
  for (int i = 0; i < 10; ++i) {
    std::string content = "item " + std::to_string(i);
    script += "printf '" + content + "' > " + Q(mount.Ingest("i" + std::to_string(i))) + " && mv " +
              Q(mount.Ingest("i" + std::to_string(i))) + " " + Q(mount.Blob(Sha256Hex(content))) + " || exit 1; ";
  }
  ASSERT_EQ(Sh(script), 0);
  for (int i = 0; i < 10; ++i) {
    std::string content = "item " + std::to_string(i);
    EXPECT_EQ(ReadAll(mount.Blob(Sha256Hex(content))), content);
  }
}

TEST(MountCommitTest, TargetMustBeAValidDigest) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  WriteAll(mount.Ingest("r"), "data");
  IngestState before = StateOf(mount, "r");
  std::string hex = Sha256Hex("data");
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  for (const std::string& name : {std::string("notahash"), hex.substr(2), upper, hex + "00"}) {
    {
      SCOPED_TRACE(name);
      EXPECT_ERRNO(::rename(mount.Ingest("r").c_str(), mount.Blob(name).c_str()), EINVAL);
    }
  }
  EXPECT_EQ(StateOf(mount, "r"), before);
}

TEST(MountCommitTest, NoReplaceOntoAnExistingBlobIsEexistBeforeReading) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "exists");
  // Different content: without NOREPLACE this would be a mismatch; EEXIST
  // comes first.
  WriteAll(mount.Ingest("r"), "something else");
  IngestState before = StateOf(mount, "r");
  EXPECT_ERRNO(Renameat2(mount.Ingest("r"), mount.Blob(hex), RENAME_NOREPLACE), EEXIST);
  EXPECT_EQ(StateOf(mount, "r"), before);
  // Onto a free name, NOREPLACE commits.
  std::string free_hex = Sha256Hex("something else");
  EXPECT_EQ(Renameat2(mount.Ingest("r"), mount.Blob(free_hex), RENAME_NOREPLACE), 0);
  EXPECT_EQ(ReadAll(mount.Blob(free_hex)), "something else");
}

TEST(MountCommitTest, TotalMismatchIsEinvalAndKeepsTheIngest) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  WriteAll(mount.Ingest("t"), "four");
  ASSERT_EQ(SetXattr(mount.Ingest("t"), "user.casfs.total", "5"), 0);
  IngestState before = StateOf(mount, "t");
  EXPECT_ERRNO(::rename(mount.Ingest("t").c_str(), mount.Blob(Sha256Hex("four")).c_str()), EINVAL);
  EXPECT_EQ(StateOf(mount, "t"), before);
  ASSERT_EQ(SetXattr(mount.Ingest("t"), "user.casfs.total", "4"), 0);
  EXPECT_EQ(::rename(mount.Ingest("t").c_str(), mount.Blob(Sha256Hex("four")).c_str()), 0);
}

TEST(MountCommitTest, ExpectedMismatchIsEinvalAndKeepsTheIngest) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  WriteAll(mount.Ingest("e"), "content");
  ASSERT_EQ(SetXattr(mount.Ingest("e"), "user.casfs.expected", "sha256:" + Sha256Hex("other")), 0);
  IngestState before = StateOf(mount, "e");
  EXPECT_ERRNO(::rename(mount.Ingest("e").c_str(), mount.Blob(Sha256Hex("content")).c_str()), EINVAL);
  EXPECT_EQ(StateOf(mount, "e"), before);
  ASSERT_EQ(::removexattr(mount.Ingest("e").c_str(), "user.casfs.expected"), 0);
  EXPECT_EQ(::rename(mount.Ingest("e").c_str(), mount.Blob(Sha256Hex("content")).c_str()), 0);
}

TEST(MountCommitTest, DigestMismatchIsEinvalLoggedAndKeepsTheIngest) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  WriteAll(mount.Ingest("m"), "actual");
  IngestState before = StateOf(mount, "m");
  std::string wrong = Sha256Hex("claimed");
  EXPECT_ERRNO(::rename(mount.Ingest("m").c_str(), mount.Blob(wrong).c_str()), EINVAL);
  EXPECT_EQ(StateOf(mount, "m"), before);
  struct stat st {};
  EXPECT_ERRNO(::stat(mount.Blob(wrong).c_str(), &st), ENOENT);
  EXPECT_FALSE(fs::exists(mount.root() / "blobs/sha256" / wrong));
  // One line per failed commit, naming the ref and both digests.
  std::string log = ReadAll(mount.root().parent_path() / "daemon.log");
  size_t lines = 0;
  for (size_t at = log.find("commit refused"); at != std::string::npos; at = log.find("commit refused", at + 1)) {
    size_t end = log.find('\n', at);
    std::string line = log.substr(at, end - at);
    EXPECT_NE(line.find("\"m\""), std::string::npos) << line;
    EXPECT_NE(line.find("sha256:" + wrong), std::string::npos) << line;
    EXPECT_NE(line.find("sha256:" + Sha256Hex("actual")), std::string::npos) << line;
    ++lines;
  }
  EXPECT_EQ(lines, 1u) << log;
  // mv (which tries RENAME_NOREPLACE, then a plain rename) fails too.
  EXPECT_NE(Sh("mv " + Q(mount.Ingest("m")) + " " + Q(mount.Blob(wrong)) + " 2>/dev/null"), 0);
  EXPECT_EQ(StateOf(mount, "m"), before);
}

TEST(MountCommitTest, AnotherAlgorithmsNameIsVerifiedInThatAlgorithm) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  WriteAll(mount.Ingest("s512"), "abc");
  IngestState before = StateOf(mount, "s512");
  std::string wrong(128, 'a');
  EXPECT_ERRNO(::rename(mount.Ingest("s512").c_str(), mount.Blob(wrong, "sha512").c_str()), EINVAL);
  EXPECT_EQ(StateOf(mount, "s512"), before);
  // A sha256 hex is not a sha512 name.
  EXPECT_ERRNO(::rename(mount.Ingest("s512").c_str(), mount.Blob(Sha256Hex("abc"), "sha512").c_str()), EINVAL);
  EXPECT_EQ(StateOf(mount, "s512"), before);
  // The right name commits: the engine hashes the data in that algorithm.
  const std::string sha512_abc =
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
  EXPECT_EQ(Sh("mv " + Q(mount.Ingest("s512")) + " " + Q(mount.Blob(sha512_abc, "sha512"))), 0);
  EXPECT_EQ(ReadAll(mount.Blob(sha512_abc, "sha512")), "abc");
  EXPECT_ERRNO(::access(mount.Ingest("s512").c_str(), F_OK), ENOENT);
}

TEST(MountCommitTest, StagedLabelsAreApplied) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  WriteAll(mount.Ingest("l"), "labelled");
  ASSERT_EQ(SetXattr(mount.Ingest("l"), "user.containerd.io/gc.root", "yes"), 0);
  ASSERT_EQ(SetXattr(mount.Ingest("l"), "user.a", "1"), 0);
  std::string hex = Sha256Hex("labelled");
  ASSERT_EQ(::rename(mount.Ingest("l").c_str(), mount.Blob(hex).c_str()), 0);
  EXPECT_EQ(GetXattr(mount.Blob(hex), "user.containerd.io/gc.root"), "yes");
  EXPECT_EQ(ListXattr(mount.Blob(hex)), (std::vector<std::string>{"user.a", "user.containerd.io/gc.root"}));
  auto store = OpenStore(mount);
  auto info = store->Info(Sha256Of(hex));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->labels, (Labels{{"a", "1"}, {"containerd.io/gc.root", "yes"}}));
}

TEST(MountCommitTest, RenameOntoTheSameContentDeduplicates) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "same", {{"old", "1"}, {"both", "existing"}});
  auto before = store->Info(Sha256Of(hex));
  ASSERT_TRUE(before.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  WriteAll(mount.Ingest("dup"), "same");
  ASSERT_EQ(SetXattr(mount.Ingest("dup"), "user.both", "staged"), 0);
  ASSERT_EQ(SetXattr(mount.Ingest("dup"), "user.new", "2"), 0);
  ASSERT_EQ(Sh("mv " + Q(mount.Ingest("dup")) + " " + Q(mount.Blob(hex))), 0);
  EXPECT_FALSE(fs::exists(mount.Ingest("dup")));
  EXPECT_TRUE(store->GetStatus("dup").status().IsNotFound());
  auto after = store->Info(Sha256Of(hex));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->created_at, before->created_at);
  EXPECT_GT(after->updated_at, before->updated_at);
  EXPECT_EQ(after->labels, (Labels{{"both", "staged"}, {"new", "2"}, {"old", "1"}}));
  EXPECT_EQ(ReadAll(mount.Blob(hex)), "same");
}

TEST(MountCommitTest, RenameWhileAWriteHandleCountsIsEbusy) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path f = mount.Ingest("open");
  int fd = ::open(f.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "open", 4), 4);
  IngestState before = StateOf(mount, "open");
  EXPECT_ERRNO(::rename(f.c_str(), mount.Blob(Sha256Hex("open")).c_str()), EBUSY);
  EXPECT_EQ(StateOf(mount, "open"), before);
  ::close(fd);
  EXPECT_EQ(::rename(f.c_str(), mount.Blob(Sha256Hex("open")).c_str()), 0);
}

TEST(MountCommitTest, ExchangeIsEinvalAndOtherRenamesArePermissionErrors) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "x");
  WriteAll(mount.Ingest("a"), "x");
  WriteAll(mount.Ingest("b"), "y");
  IngestState before = StateOf(mount, "a");
  EXPECT_ERRNO(Renameat2(mount.Ingest("a"), mount.Ingest("b"), RENAME_EXCHANGE), EINVAL);
  EXPECT_ERRNO(Renameat2(mount.Ingest("a"), mount.Blob(hex), RENAME_EXCHANGE), EINVAL);
  EXPECT_ERRNO(::rename(mount.Ingest("a").c_str(), mount.Ingest("c").c_str()), EPERM);
  EXPECT_ERRNO(::rename(mount.Ingest("a").c_str(), mount.Ingest("b").c_str()), EPERM);
  EXPECT_ERRNO(::rename(mount.Ingest("a").c_str(), (mount.mnt() / "a").c_str()), EPERM);
  EXPECT_ERRNO(::rename(mount.Ingest("a").c_str(), (mount.mnt() / "blobs" / "a").c_str()), EPERM);
  EXPECT_EQ(StateOf(mount, "a"), before);
  EXPECT_EQ(ReadAll(mount.Ingest("b")), "y");
  // Out of the mount altogether: the kernel answers EXDEV.
  EXPECT_ERRNO(::rename(mount.Ingest("a").c_str(), (mount.root().parent_path() / "out").c_str()), EXDEV);
}

TEST(MountCommitTest, UnknownIngestIsEnoent) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  EXPECT_ERRNO(::rename(mount.Ingest("none").c_str(), mount.Blob(Sha256Hex("")).c_str()), ENOENT);
}

}  // namespace
}  // namespace casfs::fuse::testing
