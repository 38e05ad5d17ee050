// Bad input and security, through the mount and the CLI.
//
// Hostile names and values: .., / and NUL in refs, names of 256 bytes,
// uppercase or short hex, xattr values of 64 KiB and more, label keys
// that are empty or contain '=', user.casfs.total=-1, and more of the
// kind. Each gets the errno the mount contract names (docs/mount-interface.md)
// and changes nothing: the whole backing root is compared before and after.
//
// Security: without allow_other no other user reaches the mount; blob
// files can never be modified through it, even by root; nothing outside
// the root can be read or written through any ref or digest.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/local_store.h"
#include "gtest/gtest.h"
#include "tests/reliability/support/casfs.h"
#include "tests/reliability/support/files.h"
#include "tests/reliability/support/process.h"

namespace casfs::reltest {
namespace {

using std::chrono::seconds;

class Hostile : public ::testing::Test {
 protected:
  void SetUp() override {
    CASFS_REQUIRE_FUSE();
    blob_ = RandomBytes(100000, 31);
    hex_ = Sha256Hex(blob_);
    ingest_data_ = RandomBytes(5000, 32);
    // Other users must be able to walk to the mount point, so that their
    // EACCES can only come from FUSE.
    chmod(dir_.path().c_str(), 0755);
    fs::create_directories(dir_ / "outside");
    ASSERT_TRUE(WriteFile(dir_ / "outside/secret", "outside the root\n"));
    chmod((dir_ / "outside").c_str(), 0755);
    std::string error;
    mount_ = Mount::Start(root_, dir_ / "mnt", &error);
    ASSERT_TRUE(mount_) << error;
    chmod((dir_ / "mnt").c_str(), 0755);
    ASSERT_TRUE(WriteFile(*mount_ / "ingest/committed", blob_));
    ASSERT_EQ(rename((*mount_ / "ingest/committed").c_str(), BlobInMount().c_str()), 0) << ErrnoName(errno);
    ASSERT_EQ(SetXattr(BlobInMount(), "user.keep", "1"), 0);
    // The victim ingest is written by the CLI, whose close is synchronous:
    // a mount's release arrives after close(2) has returned and would
    // write the hash checkpoint under the first snapshot.
    ASSERT_TRUE(WriteFile(dir_ / "victim", ingest_data_));
    RunResult victim = RunCli(root_, {"ingest", "--no-commit", "victim", (dir_ / "victim").string()});
    ASSERT_TRUE(victim.ok()) << victim.description;
    outside_before_ = SnapshotTree(dir_ / "outside");
  }

  void TearDown() override {
    if (mount_) {
      EXPECT_EQ(mount_->Unmount(), 0) << mount_->daemon().Describe();
    }
    if (!outside_before_.empty()) {
      EXPECT_EQ(DiffSnapshots(outside_before_, SnapshotTree(dir_ / "outside")), "")
          << "something outside the root changed";
    }
    BlobAudit audit = AuditBlobs(root_);
    for (const auto& bad : audit.bad) ADD_FAILURE() << "bad blob: " << bad;
  }

  fs::path BlobInMount() const { return *mount_ / "blobs/sha256" / hex_; }
  fs::path Victim() const { return *mount_ / "ingest/victim"; }

  // Runs `op` (which returns 0 or an errno), expects `want`, and expects the
  // backing root to be exactly as before.
  void Expect(const std::string& what, int want, const std::function<int()>& op) {
    auto before = SnapshotTree(root_);
    int got = op();
    auto diff = DiffSnapshots(before, SnapshotTree(root_));
    ++ops_;
    bool ok = got == want && diff.empty();
    if (!ok) ++wrong_;
    EXPECT_EQ(ErrnoName(got), ErrnoName(want)) << what;
    EXPECT_EQ(diff, "") << what << " changed the store";
    std::printf("  %-58s %-13s%s\n", what.c_str(), ErrnoName(got).c_str(), ok ? "" : "  <-- WRONG");
  }

  static int Errno(int rc) { return rc == 0 ? 0 : errno; }
  static int OpenErr(const fs::path& p, int flags) {
    int fd = open(p.c_str(), flags, 0644);
    if (fd < 0) return errno;
    close(fd);
    return 0;
  }

  TempDir dir_{"casfs-hostile"};
  fs::path root_ = dir_ / "root";
  std::unique_ptr<Mount> mount_;
  std::string blob_, hex_, ingest_data_;
  std::map<std::string, std::string> outside_before_;
  int ops_ = 0;
  int wrong_ = 0;
};

TEST_F(Hostile, NamesThroughTheMount) {
  const std::string long_name(256, 'a');
  Expect("create ingest/<256 bytes>", ENAMETOOLONG,
         [&] { return OpenErr(*mount_ / "ingest" / long_name, O_WRONLY | O_CREAT | O_EXCL); });
  Expect("lookup blobs/sha256/<256 bytes>", ENAMETOOLONG,
         [&] { return OpenErr(*mount_ / "blobs/sha256" / long_name, O_RDONLY); });
  Expect("create ingest/%2e%2e (lowercase escape)", EINVAL,
         [&] { return OpenErr(*mount_ / "ingest/%2e%2e", O_WRONLY | O_CREAT | O_EXCL); });
  Expect("create ingest/%2f (lowercase escape)", EINVAL,
         [&] { return OpenErr(*mount_ / "ingest/a%2fb", O_WRONLY | O_CREAT | O_EXCL); });
  Expect("create ingest/%41 (an escape that is not one)", EINVAL,
         [&] { return OpenErr(*mount_ / "ingest/%41", O_WRONLY | O_CREAT | O_EXCL); });
  Expect("create ingest/a%2Eb (%2E inside a longer name)", EINVAL,
         [&] { return OpenErr(*mount_ / "ingest/a%2Eb", O_WRONLY | O_CREAT | O_EXCL); });
  Expect("create ingest/100% (a bare %)", EINVAL,
         [&] { return OpenErr(*mount_ / "ingest/100%", O_WRONLY | O_CREAT | O_EXCL); });
  Expect("create ingest/victim with O_EXCL (exists)", EEXIST,
         [&] { return OpenErr(Victim(), O_WRONLY | O_CREAT | O_EXCL); });
  Expect("create a file in the root", EPERM, [&] { return OpenErr(*mount_ / "file", O_WRONLY | O_CREAT); });
  Expect("create a file in blobs/sha256", EPERM,
         [&] { return OpenErr(*mount_ / "blobs/sha256/new", O_WRONLY | O_CREAT); });
  Expect("create blobs/sha256/<valid hex> directly", EPERM,
         [&] { return OpenErr(*mount_ / "blobs/sha256" / Sha256Hex("x"), O_WRONLY | O_CREAT); });
  Expect("mkdir ingest/dir", EPERM, [&] { return Errno(mkdir((*mount_ / "ingest/dir").c_str(), 0755)); });
  Expect("mkdir blobs/md5", EPERM, [&] { return Errno(mkdir((*mount_ / "blobs/md5").c_str(), 0755)); });
  Expect("symlink ingest/link -> /etc/passwd", EPERM,
         [&] { return Errno(symlink("/etc/passwd", (*mount_ / "ingest/link").c_str())); });
  Expect("mkfifo ingest/fifo", EPERM, [&] { return Errno(mkfifo((*mount_ / "ingest/fifo").c_str(), 0644)); });
  Expect("rmdir blobs/sha256", EPERM, [&] { return Errno(rmdir((*mount_ / "blobs/sha256").c_str())); });
  Expect("rename blobs -> x", EPERM,
         [&] { return Errno(rename((*mount_ / "blobs").c_str(), (*mount_ / "x").c_str())); });
  std::string upper = hex_;
  for (auto& c : upper) c = static_cast<char>(toupper(c));
  Expect("lookup blobs/sha256/<UPPERCASE hex>", ENOENT,
         [&] { return OpenErr(*mount_ / "blobs/sha256" / upper, O_RDONLY); });
  Expect("lookup blobs/sha256/<short hex>", ENOENT,
         [&] { return OpenErr(*mount_ / "blobs/sha256" / hex_.substr(0, 12), O_RDONLY); });
  std::string victim_hex = Sha256Hex(ingest_data_);
  std::string victim_upper = victim_hex;
  for (auto& c : victim_upper) c = static_cast<char>(toupper(c));
  Expect("mv ingest/victim blobs/sha256/<UPPERCASE hex>", EINVAL, [&] {
    return Errno(rename(Victim().c_str(), (*mount_ / "blobs/sha256" / victim_upper).c_str()));
  });
  Expect("mv ingest/victim blobs/sha256/<short hex>", EINVAL, [&] {
    return Errno(rename(Victim().c_str(), (*mount_ / "blobs/sha256" / victim_hex.substr(0, 63)).c_str()));
  });
  Expect("mv ingest/victim blobs/sha256/<65 hex digits>", EINVAL, [&] {
    return Errno(rename(Victim().c_str(), (*mount_ / "blobs/sha256" / (victim_hex + "0")).c_str()));
  });
  Expect("mv ingest/victim blobs/sha512/<a sha256 hex>", EINVAL, [&] {
    return Errno(rename(Victim().c_str(), (*mount_ / "blobs/sha512" / victim_hex).c_str()));
  });
  Expect("mv ingest/victim blobs/sha256/<wrong digest>", EINVAL, [&] {
    return Errno(rename(Victim().c_str(), (*mount_ / "blobs/sha256" / Sha256Hex("other")).c_str()));
  });
  Expect("mv ingest/victim ingest/other", EPERM,
         [&] { return Errno(rename(Victim().c_str(), (*mount_ / "ingest/other").c_str())); });
  Expect("mv ingest/victim to the root", EPERM,
         [&] { return Errno(rename(Victim().c_str(), (*mount_ / "victim").c_str())); });
  ReportFigure("hostile-input (names through the mount)",
               std::to_string(ops_) + " hostile operations, " + std::to_string(ops_ - wrong_) +
                   " got the contract's errno and changed nothing");
  EXPECT_EQ(wrong_, 0);
}

TEST_F(Hostile, ValuesThroughTheMount) {
  const std::string v64k(65536, 'x');
  Expect("setfattr user.big = 64 KiB on a blob", EINVAL, [&] { return SetXattr(BlobInMount(), "user.big", v64k); });
  Expect("setfattr user.big = 64 KiB + 1 on a blob", E2BIG,
         [&] { return SetXattr(BlobInMount(), "user.big", v64k + "x"); });
  Expect("setfattr user.big = 64 KiB on an ingest", EINVAL, [&] { return SetXattr(Victim(), "user.big", v64k); });
  Expect("label of 4097 bytes (key 97 + value 4000)", EINVAL,
         [&] { return SetXattr(BlobInMount(), "user." + std::string(97, 'k'), std::string(4000, 'v')); });
  Expect("setfattr user. (empty key)", EINVAL, [&] { return SetXattr(BlobInMount(), "user.", "v"); });
  Expect("setfattr user.casfs.anything (reserved)", EPERM,
         [&] { return SetXattr(BlobInMount(), "user.casfs.anything", "v"); });
  Expect("setfattr user.casfs.digest on a blob (read-only)", EPERM,
         [&] { return SetXattr(BlobInMount(), "user.casfs.digest", "sha256:" + hex_); });
  Expect("setfattr -x user.casfs.digest on a blob", EPERM,
         [&] { return RemoveXattr(BlobInMount(), "user.casfs.digest"); });
  Expect("setfattr trusted.x on a blob (other namespace)", ENOTSUP,
         [&] { return SetXattr(BlobInMount(), "trusted.x", "v"); });
  Expect("getfattr user.casfs.total on a blob (wrong kind)", ENODATA,
         [&] { return GetXattr(BlobInMount(), "user.casfs.total").err; });
  Expect("setfattr -x user.absent", ENODATA, [&] { return RemoveXattr(BlobInMount(), "user.absent"); });
  for (const char* bad : {"-1", "abc", "1e3", " 5", "5 ", "+5", "0x10", "99999999999999999999"}) {
    Expect(std::string("setfattr user.casfs.total=\"") + bad + "\"", EINVAL,
           [&] { return SetXattr(Victim(), "user.casfs.total", bad); });
  }
  Expect("setfattr user.casfs.expected=sha256:<UPPERCASE>", EINVAL, [&] {
    std::string up = Sha256Hex(ingest_data_);
    for (auto& c : up) c = static_cast<char>(toupper(c));
    return SetXattr(Victim(), "user.casfs.expected", "sha256:" + up);
  });
  Expect("setfattr user.casfs.expected=md5:<hex>", EINVAL,
         [&] { return SetXattr(Victim(), "user.casfs.expected", "md5:d41d8cd98f00b204e9800998ecf8427e"); });
  Expect("setfattr user.casfs.expected=sha256:<short>", EINVAL,
         [&] { return SetXattr(Victim(), "user.casfs.expected", "sha256:abc"); });
  for (const char* ro : {"user.casfs.offset", "user.casfs.digest", "user.casfs.ref", "user.casfs.startedat",
                         "user.casfs.updatedat"}) {
    Expect(std::string("setfattr ") + ro + " on an ingest (read-only)", EPERM,
           [&] { return SetXattr(Victim(), ro, "1"); });
  }
  ReportFigure("hostile-input (xattr values through the mount)",
               std::to_string(ops_) + " hostile operations, " + std::to_string(ops_ - wrong_) +
                   " got the contract's errno and changed nothing");
  EXPECT_EQ(wrong_, 0);
}

// What is legal but unusual must work and round-trip exactly.
TEST_F(Hostile, UnusualButValidLabels) {
  const std::string key_eq = "user.a=b";
  ASSERT_EQ(SetXattr(BlobInMount(), key_eq, "c=d"), 0) << "a key with '=' is valid (containerd has no rule on it)";
  EXPECT_EQ(GetXattr(BlobInMount(), key_eq).value, "c=d");
  const std::string with_nul("x\0y\nz%3D", 8);
  ASSERT_EQ(SetXattr(BlobInMount(), "user.nul", with_nul), 0);
  EXPECT_EQ(GetXattr(BlobInMount(), "user.nul").value, with_nul);
  const std::string exact_key = "user." + std::string(96, 'k');
  ASSERT_EQ(SetXattr(BlobInMount(), exact_key, std::string(4000, 'v')), 0) << "96 + 4000 = 4096 is allowed";
  RunResult info = RunCli(root_, {"--json", "info", "sha256:" + hex_});
  ASSERT_TRUE(info.ok()) << info.description;
  EXPECT_NE(info.out.find("\"a=b\""), std::string::npos) << info.out;
  // And they survive a remount.
  EXPECT_EQ(mount_->Unmount(), 0);
  std::string error;
  mount_ = Mount::Start(root_, dir_ / "mnt2", &error);
  ASSERT_TRUE(mount_) << error;
  EXPECT_EQ(GetXattr(BlobInMount(), key_eq).value, "c=d");
  EXPECT_EQ(GetXattr(BlobInMount(), "user.nul").value, with_nul);
  EXPECT_EQ(GetXattr(BlobInMount(), exact_key).value, std::string(4000, 'v'));
}

TEST_F(Hostile, RefsAndDigestsThroughTheCli) {
  ASSERT_TRUE(WriteFile(dir_ / "content", ingest_data_));
  auto cli = [&](const std::string& what, int want_exit, std::vector<std::string> args) {
    auto before = SnapshotTree(root_);
    RunResult r = RunCli(root_, args);
    auto diff = DiffSnapshots(before, SnapshotTree(root_));
    ++ops_;
    bool ok = r.exit_code == want_exit && diff.empty();
    if (!ok) ++wrong_;
    EXPECT_EQ(r.exit_code, want_exit) << what << ": " << r.description;
    EXPECT_EQ(diff, "") << what << " changed the store";
    std::printf("  %-58s exit %d%s\n", what.c_str(), r.exit_code, ok ? "" : "  <-- WRONG");
  };
  cli("cat sha256:../../outside/secret", 2, {"cat", "sha256:../../outside/secret"});
  cli("cat ../outside/secret", 2, {"cat", "../outside/secret"});
  cli("cat sha256:<UPPERCASE hex>", 2, {"cat", "sha256:" + std::string(64, 'A')});
  cli("cat sha256:<short hex>", 2, {"cat", "sha256:abc"});
  cli("cat md5:<hex>", 2, {"cat", "md5:d41d8cd98f00b204e9800998ecf8427e"});
  cli("cat <missing digest>", 3, {"cat", "sha256:" + Sha256Hex("missing")});
  cli("label with an empty key", 2, {"label", "sha256:" + hex_, "=v"});
  cli("label with a reserved key", 7, {"label", "sha256:" + hex_, "casfs.x=1"});
  cli("label of 4097 bytes", 2, {"label", "sha256:" + hex_, std::string(97, 'k') + "=" + std::string(4000, 'v')});
  cli("ingest --total -1", 2, {"ingest", "--total", "-1", "neg", (dir_ / "content").string()});
  cli("ingest --expected sha256:<UPPERCASE>", 2,
      {"ingest", "--expected", "sha256:" + std::string(64, 'A'), "up", (dir_ / "content").string()});
  cli("ingest with an empty ref", 2, {"ingest", "", (dir_ / "content").string()});

  // Refs are opaque names: these are valid, and land inside the root only.
  int contained = 0;
  const std::vector<std::string> refs = {"..", ".", "../../outside/evil", "/etc/passwd", "a/../../../x",
                                         std::string(300, '/'), std::string(5000, 'r')};
  for (const auto& ref : refs) {
    RunResult r = RunCli(root_, {"ingest", "--no-commit", ref, (dir_ / "content").string()});
    EXPECT_TRUE(r.ok()) << "ref \"" << ref.substr(0, 40) << "\": " << r.description;
    EXPECT_EQ(FileSize(IngestData(root_, ref)), static_cast<int64_t>(ingest_data_.size()))
        << "ref \"" << ref.substr(0, 40) << "\" did not land in ingest/<sha256(ref)>";
    if (FileSize(IngestData(root_, ref)) == static_cast<int64_t>(ingest_data_.size())) ++contained;
  }
  EXPECT_FALSE(fs::exists(dir_ / "outside/evil"));
  EXPECT_FALSE(fs::exists(dir_ / "x"));
  // The mount shows them under their encoded names (or not at all when a
  // name cannot be a file name), and readdir does not fail.
  std::error_code ec;
  int listed = 0;
  for (const auto& e : fs::directory_iterator(*mount_ / "ingest", ec)) {
    (void)e;
    ++listed;
  }
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(fs::exists(*mount_ / "ingest/%2E%2E")) << "the ref \"..\" is not shown as %2E%2E";
  EXPECT_EQ(GetXattr(*mount_ / "ingest/%2E%2E", "user.casfs.ref").value, "..");
  EXPECT_EQ(GetXattr(*mount_ / "ingest/..%2F..%2Foutside%2Fevil", "user.casfs.ref").value, "../../outside/evil");
  // Committing the ".." ref through the mount works and writes only the blob.
  std::string content_hex = Sha256Hex(ingest_data_);
  EXPECT_EQ(rename((*mount_ / "ingest/%2E%2E").c_str(), (*mount_ / "blobs/sha256" / content_hex).c_str()), 0)
      << ErrnoName(errno);
  ReportFigure("hostile-input (refs and digests through the CLI)",
               std::to_string(ops_) + " hostile arguments refused with the right exit code and no change, " +
                   std::to_string(contained) + " of " + std::to_string(refs.size()) +
                   " path-like refs kept inside the root");
  EXPECT_EQ(wrong_, 0);
}

// A ref with NUL cannot come through argv or a file name; through the
// engine it is an opaque name like any other, and the mount, which cannot
// show it, must not show it as some other ref.
TEST_F(Hostile, RefWithNul) {
  const std::string ref("a\0b", 3);
  {
    auto store = LocalStore::Open(root_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    LocalWriterOptions options;
    options.ref = ref;
    auto writer = (*store)->OpenWriter(options);
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_TRUE((*writer)->Write(ingest_data_.data(), ingest_data_.size()).ok());
    ASSERT_TRUE((*writer)->Close().ok());
    auto status = (*store)->GetStatus(ref);
    ASSERT_TRUE(status.ok()) << status.status().ToString();
    EXPECT_EQ(status->ref, ref);
    EXPECT_EQ(status->offset, static_cast<int64_t>(ingest_data_.size()));
  }
  EXPECT_TRUE(fs::exists(IngestData(root_, ref)));
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(*mount_ / "ingest", ec)) names.push_back(e.path().filename());
  EXPECT_FALSE(ec) << ec.message();
  for (const auto& n : names) {
    EXPECT_NE(n, "a") << "the NUL ref is shown as the ref \"a\"";
    EXPECT_NE(GetXattr(*mount_ / "ingest" / n, "user.casfs.ref").value, "a");
  }
  EXPECT_FALSE(fs::exists(*mount_ / "ingest/a"));
  RunResult active = RunCli(root_, {"--json", "active"});
  EXPECT_TRUE(active.ok()) << active.description;
  EXPECT_NE(active.out.find("a\\u0000b"), std::string::npos) << "active does not show the NUL ref: " << active.out;
}

// Without allow_other, another user cannot even stat the mount point; with
// it, they can read but never modify a blob. The positive control proves
// the denial comes from FUSE, not from the folders' modes.
TEST_F(Hostile, OtherUsers) {
  CASFS_REQUIRE_ROOT();
  auto as_nobody = [&](const std::string& cmd) {
    return RunCommand({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", cmd}, seconds(30));
  };
  std::string blob = BlobInMount().string();
  std::string checks[][2] = {
      {"stat", "stat '" + mount_->mountpoint().string() + "'"},
      {"list blobs", "ls '" + (*mount_ / "blobs/sha256").string() + "'"},
      {"read a blob", "cat '" + blob + "' > /dev/null"},
      {"create an ingest", "echo x > '" + (*mount_ / "ingest/by-nobody").string() + "'"},
      {"read a label", "getfattr -n user.keep '" + blob + "'"},
  };
  int denied = 0;
  for (const auto& c : checks) {
    RunResult r = as_nobody(c[1]);
    EXPECT_FALSE(r.ok()) << "without allow_other, another user could " << c[0] << ": " << r.description;
    EXPECT_NE(r.err.find("ermission denied"), std::string::npos) << c[0] << ": " << r.err;
    if (!r.ok()) ++denied;
  }
  EXPECT_EQ(mount_->Unmount(), 0);

  std::string error;
  Mount::Options mo;
  mo.args = {"-o", "allow_other"};
  mount_ = Mount::Start(root_, dir_ / "mnt-other", mo, &error);
  ASSERT_TRUE(mount_) << error;
  chmod((dir_ / "mnt-other").c_str(), 0755);
  blob = BlobInMount().string();
  RunResult read = as_nobody("cat '" + blob + "' | sha256sum");
  EXPECT_TRUE(read.ok()) << "with allow_other, another user cannot read a blob: " << read.description;
  EXPECT_NE(read.out.find(hex_), std::string::npos);
  int refused_writes = 0;
  for (const std::string& cmd : {"echo x >> '" + blob + "'", "echo x > '" + blob + "'", "truncate -s 0 '" + blob + "'",
                                 "chmod 666 '" + blob + "'", "touch '" + blob + "'"}) {
    RunResult r = as_nobody(cmd);
    EXPECT_FALSE(r.ok()) << "with allow_other, another user could modify a blob: " << cmd;
    if (!r.ok()) ++refused_writes;
  }
  EXPECT_EQ(AuditBlobs(root_).names.size(), 1u);
  ReportFigure("security (other users)", std::to_string(denied) + " of 5 accesses denied without allow_other; " +
                                             std::to_string(refused_writes) +
                                             " of 5 blob modifications refused with allow_other");
}

// Root is not stopped by modes, so the mount itself must refuse every way
// of changing a blob's content or attributes.
TEST_F(Hostile, BlobsAreImmutableEvenForRoot) {
  fs::path blob = BlobInMount();
  Expect("open O_WRONLY", EPERM, [&] { return OpenErr(blob, O_WRONLY); });
  Expect("open O_RDWR", EPERM, [&] { return OpenErr(blob, O_RDWR); });
  Expect("open O_WRONLY|O_APPEND", EPERM, [&] { return OpenErr(blob, O_WRONLY | O_APPEND); });
  Expect("open O_RDONLY|O_TRUNC", EPERM, [&] { return OpenErr(blob, O_RDONLY | O_TRUNC); });
  Expect("open O_WRONLY|O_CREAT|O_TRUNC", EPERM, [&] { return OpenErr(blob, O_WRONLY | O_CREAT | O_TRUNC); });
  Expect("truncate to 0", EPERM, [&] { return Errno(truncate(blob.c_str(), 0)); });
  Expect("truncate to 1 MiB", EPERM, [&] { return Errno(truncate(blob.c_str(), 1 << 20)); });
  Expect("chmod 0644", EPERM, [&] { return Errno(chmod(blob.c_str(), 0644)); });
  Expect("chown 1:1", EPERM, [&] { return Errno(chown(blob.c_str(), 1, 1)); });
  Expect("utimes", EPERM, [&] { return Errno(utimes(blob.c_str(), nullptr)); });
  Expect("link to ingest/hard", EPERM, [&] { return Errno(link(blob.c_str(), (*mount_ / "ingest/hard").c_str())); });
  Expect("rename the blob to ingest/x", EPERM,
         [&] { return Errno(rename(blob.c_str(), (*mount_ / "ingest/x").c_str())); });
  Expect("rename the blob to another digest", EPERM,
         [&] { return Errno(rename(blob.c_str(), (*mount_ / "blobs/sha256" / Sha256Hex("y")).c_str())); });
  auto content = ReadFile(blob);
  EXPECT_TRUE(content && *content == blob_) << "the blob's content changed";
  ReportFigure("security (blobs immutable for root)",
               std::to_string(ops_ - wrong_) + " of " + std::to_string(ops_) +
                   " ways to modify a blob refused with EPERM, content unchanged");
  EXPECT_EQ(wrong_, 0);
}

}  // namespace
}  // namespace casfs::reltest
