// Ingests: create, resume, append, truncate, writes in any order, one
// writer per ref, read-back, abort, and survival across remounts.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "tests/fuse/mount_test_util.h"

namespace casfs::fuse::testing {
namespace {

std::string DigestAttr(const fs::path& path) { return GetXattr(path, "user.casfs.digest").value_or("?"); }
off_t SizeOf(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

TEST(MountIngestTest, CpCreatesAnIngestAndOExclRefusesAnExistingOne) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path source = mount.root().parent_path() / "source";
  WriteAll(source, "from cp\n");
  ASSERT_EQ(Sh("cp " + Q(source) + " " + Q(mount.Ingest("cp-ref"))), 0);
  EXPECT_EQ(ReadAll(mount.Ingest("cp-ref")), "from cp\n");
  auto store = OpenStore(mount);
  auto status = store->GetStatus("cp-ref");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->offset, 8);
  EXPECT_ERRNO(::open(mount.Ingest("cp-ref").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
  // An ingest made elsewhere (the engine) counts too.
  LocalWriterOptions options;
  options.ref = "engine-ref";
  auto writer = store->OpenWriter(options);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_ERRNO(::open(mount.Ingest("engine-ref").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
}

TEST(MountIngestTest, OpeningForWritingResumesAndOAppendAppends) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path f = mount.Ingest("resume");
  WriteAll(f, "0123456789");
  // O_WRONLY without O_TRUNC keeps everything; a write at 2 overwrites.
  ASSERT_TRUE(PwriteFile(f, "ab", 2));
  EXPECT_EQ(ReadAll(f), "01ab456789");
  // O_APPEND goes to the current end whatever the offset asked for.
  int fd = ::open(f.c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "XY", 2), 2);
  ASSERT_EQ(::pwrite(fd, "Z", 1, 0), 1);
  ::close(fd);
  EXPECT_EQ(ReadAll(f), "01ab456789XYZ");
  EXPECT_EQ(DigestAttr(f), Sha("01ab456789XYZ"));
}

TEST(MountIngestTest, SequentialShellAppendsWork) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path f = mount.Ingest("appends");
  std::string script, expected;
  for (int i = 0; i < 30; ++i) {
    script += "echo line" + std::to_string(i) + " >> " + Q(f) + " || exit 1; ";
    expected += "line" + std::to_string(i) + "\n";
  }
  ASSERT_EQ(Sh(script), 0);
  EXPECT_EQ(ReadAll(f), expected);
  EXPECT_EQ(DigestAttr(f), Sha(expected));
}

TEST(MountIngestTest, OTruncRestartsTheDataAndKeepsTheStatus) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path f = mount.Ingest("trunc");
  WriteAll(f, "old data");
  ASSERT_EQ(SetXattr(f, "user.casfs.total", "3"), 0);
  ASSERT_EQ(SetXattr(f, "user.casfs.expected", Sha("new")), 0);
  ASSERT_EQ(SetXattr(f, "user.staged", "yes"), 0);
  auto started = GetXattr(f, "user.casfs.startedat");
  ASSERT_TRUE(started.has_value());
  WriteAll(f, "new");  // O_WRONLY|O_CREAT|O_TRUNC
  EXPECT_EQ(ReadAll(f), "new");
  EXPECT_EQ(GetXattr(f, "user.casfs.ref"), "trunc");
  EXPECT_EQ(GetXattr(f, "user.casfs.startedat"), started);
  EXPECT_EQ(GetXattr(f, "user.casfs.total"), "3");
  EXPECT_EQ(GetXattr(f, "user.casfs.expected"), Sha("new"));
  EXPECT_EQ(GetXattr(f, "user.staged"), "yes");
}

TEST(MountIngestTest, FtruncateShrinksOrExtendsWithZeros) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path f = mount.Ingest("ftrunc");
  WriteAll(f, "abcdefgh");
  int fd = ::open(f.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 3), 0);
  EXPECT_EQ(SizeOf(f), 3);
  EXPECT_EQ(DigestAttr(f), Sha("abc"));
  ASSERT_EQ(::ftruncate(fd, 6), 0);
  EXPECT_EQ(DigestAttr(f), Sha(std::string("abc\0\0\0", 6)));
  ASSERT_EQ(::ftruncate(fd, 0), 0);
  EXPECT_EQ(SizeOf(f), 0);
  ::close(fd);
  // truncate(2) by name, with no handle open.
  WriteAll(f, "0123456789");
  ASSERT_EQ(::truncate(f.c_str(), 4), 0);
  EXPECT_EQ(ReadAll(f), "0123");
  ASSERT_EQ(Sh("truncate -s 6 " + Q(f)), 0);
  EXPECT_EQ(ReadAll(f), std::string("0123\0\0", 6));
}

TEST(MountIngestTest, OutOfOrderWritesHashAsTheBytesWithHolesAsZeros) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path f = mount.Ingest("holes");
  // The last block first, then the first; the middle stays a hole.
  ASSERT_EQ(Sh("printf CCCC | dd of=" + Q(f) + " bs=4 seek=4 conv=notrunc status=none"), 0);
  EXPECT_EQ(SizeOf(f), 20);
  ASSERT_EQ(Sh("printf AAAA | dd of=" + Q(f) + " bs=4 seek=0 conv=notrunc status=none"), 0);
  std::string expected = "AAAA" + std::string(12, '\0') + "CCCC";
  EXPECT_EQ(ReadAll(f), expected);
  EXPECT_EQ(DigestAttr(f), Sha(expected));
  ASSERT_EQ(Sh("printf BBBB | dd of=" + Q(f) + " bs=4 seek=2 conv=notrunc status=none"), 0);
  expected.replace(8, 4, "BBBB");
  EXPECT_EQ(DigestAttr(f), Sha(expected));
  EXPECT_EQ(GetXattr(f, "user.casfs.offset"), "20");
}

TEST(MountIngestTest, EveryReturnedWriteIsInSizeAndDigestBeforeClose) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path f = mount.Ingest("live");
  int fd = ::open(f.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  std::string written;
  for (int i = 0; i < 5; ++i) {
    std::string chunk(1000 + i, static_cast<char>('a' + i));
    ASSERT_EQ(::write(fd, chunk.data(), chunk.size()), static_cast<ssize_t>(chunk.size()));
    written += chunk;
    EXPECT_EQ(SizeOf(f), static_cast<off_t>(written.size()));
    EXPECT_EQ(GetXattr(f, "user.casfs.offset"), std::to_string(written.size()));
    EXPECT_EQ(DigestAttr(f), Sha(written));
    // Read back while written, through another descriptor.
    EXPECT_EQ(ReadAll(f), written);
  }
  // A write below the end (the size stays) is seen as well.
  ASSERT_EQ(::pwrite(fd, "Z", 1, 0), 1);
  written[0] = 'Z';
  EXPECT_EQ(DigestAttr(f), Sha(written));
  EXPECT_EQ(ReadAll(f), written);
  ::close(fd);
}

TEST(MountIngestTest, ASecondWriterIsEbusy) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path f = mount.Ingest("busy");
  int fd = ::open(f.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "x", 1), 1);
  EXPECT_ERRNO(::open(f.c_str(), O_WRONLY), EBUSY);
  EXPECT_ERRNO(::open(f.c_str(), O_RDWR), EBUSY);
  EXPECT_ERRNO(::open(f.c_str(), O_WRONLY | O_APPEND), EBUSY);
  EXPECT_ERRNO(::open(f.c_str(), O_CREAT | O_WRONLY, 0644), EBUSY);
  EXPECT_ERRNO(::truncate(f.c_str(), 0), EBUSY);
  EXPECT_NE(Sh("echo more >> " + Q(f) + " 2>/dev/null"), 0);
  // Readers are welcome.
  EXPECT_EQ(ReadAll(f), "x");
  // The engine (another process's writer) is refused as well.
  auto store = OpenStore(mount);
  LocalWriterOptions options;
  options.ref = "busy";
  options.lock_wait = std::chrono::milliseconds(0);
  EXPECT_TRUE(store->OpenWriter(options).status().Is(ErrorKind::kUnavailable));
  ::close(fd);
  // Once closed, the next writer gets it.
  ASSERT_TRUE(PwriteFile(f, "y", 1));
  EXPECT_EQ(ReadAll(f), "xy");
}

TEST(MountIngestTest, AWriterElsewhereMakesTheMountEbusy) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  LocalWriterOptions options;
  options.ref = "held";
  auto writer = store->OpenWriter(options);
  ASSERT_TRUE(writer.ok());
  EXPECT_ERRNO(::open(mount.Ingest("held").c_str(), O_WRONLY), EBUSY);
  EXPECT_ERRNO(::unlink(mount.Ingest("held").c_str()), EBUSY);
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_TRUE(PwriteFile(mount.Ingest("held"), "ok", 0));
}

TEST(MountIngestTest, RmAbortsAndIsEbusyWhileWritten) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path f = mount.Ingest("gone");
  int fd = ::open(f.c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  EXPECT_ERRNO(::unlink(f.c_str()), EBUSY);
  ::close(fd);
  // rm right after close(2): the release in flight is waited for.
  ASSERT_EQ(Sh("rm " + Q(f)), 0);
  auto store = OpenStore(mount);
  EXPECT_TRUE(store->GetStatus("gone").status().IsNotFound());
  EXPECT_FALSE(fs::exists(IngestDirOf(mount.root(), "gone")));
  EXPECT_ERRNO(::unlink(f.c_str()), ENOENT);
  struct stat st {};
  EXPECT_ERRNO(::stat(mount.Ingest("never").c_str(), &st), ENOENT);
  EXPECT_ERRNO(::open(mount.Ingest("never").c_str(), O_RDONLY), ENOENT);
}

TEST(MountIngestTest, IngestsSurviveUnmountAndRemount) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path f = mount.Ingest("survivor");
  WriteAll(f, "part one;");
  ASSERT_EQ(SetXattr(f, "user.casfs.total", "18"), 0);
  ASSERT_EQ(SetXattr(f, "user.note", "kept"), 0);
  auto started = GetXattr(f, "user.casfs.startedat");
  auto updated = GetXattr(f, "user.casfs.updatedat");
  EXPECT_EQ(mount.Unmount(), 0);
  ASSERT_TRUE(mount.Mount()) << mount.error();
  EXPECT_EQ(ReadAll(f), "part one;");
  EXPECT_EQ(GetXattr(f, "user.casfs.startedat"), started);
  EXPECT_EQ(GetXattr(f, "user.casfs.updatedat"), updated);
  EXPECT_EQ(GetXattr(f, "user.casfs.total"), "18");
  EXPECT_EQ(GetXattr(f, "user.note"), "kept");
  ASSERT_EQ(Sh("printf 'part two;' >> " + Q(f)), 0);
  EXPECT_EQ(DigestAttr(f), Sha("part one;part two;"));
  ASSERT_EQ(::rename(f.c_str(), mount.Blob(Sha256Hex("part one;part two;")).c_str()), 0);
  EXPECT_EQ(ReadAll(mount.Blob(Sha256Hex("part one;part two;"))), "part one;part two;");
}

TEST(MountIngestTest, AFullBackingFilesystemIsEnospcAndConsistent) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a small tmpfs";
  char tmpl[] = "/tmp/casfs-enospc-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  fs::path small = tmpl;
  ASSERT_EQ(::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=2m"), 0) << std::strerror(errno);
  {
    MountConfig config;
    config.shared_root = small / "root";
    fs::create_directories(config.shared_root);
    MountFixture mount(config);
    ASSERT_MOUNTED(mount);
    fs::path f = mount.Ingest("big");
    int fd = ::open(f.c_str(), O_CREAT | O_WRONLY, 0644);
    ASSERT_GE(fd, 0);
    std::string chunk(64 * 1024, 'f');
    int err = 0;
    for (int i = 0; i < 100; ++i) {
      if (::write(fd, chunk.data(), chunk.size()) < 0) {
        err = errno;
        break;
      }
    }
    EXPECT_EQ(err, ENOSPC);
    ::close(fd);
    // Offset and digest describe exactly what is there.
    std::string data = ReadAll(f);
    EXPECT_EQ(GetXattr(f, "user.casfs.offset"), std::to_string(data.size()));
    EXPECT_EQ(DigestAttr(f), Sha(data));
    EXPECT_EQ(SizeOf(f), static_cast<off_t>(data.size()));
    EXPECT_EQ(data, std::string(data.size(), 'f'));
  }
  ::umount2(small.c_str(), MNT_DETACH);
  fs::remove_all(small);
}

}  // namespace
}  // namespace casfs::fuse::testing
