// Labels as user.* attributes, staged labels on ingests, and the virtual
// user.casfs.* attributes.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include "tests/fuse/mount_test_util.h"

namespace casfs::fuse::testing {
namespace {

TEST(MountLabelTest, GetfattrListsExactlyTheLabels) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "labelled", {{"containerd.io/gc.root", "2024"}, {"a", "b c"}});
  std::string out;
  ASSERT_EQ(Sh("cd " + Q(mount.mnt() / "blobs/sha256") + " && getfattr -d " + hex, &out), 0);
  EXPECT_EQ(out, "# file: " + hex + "\nuser.a=\"b c\"\nuser.containerd.io/gc.root=\"2024\"\n\n");
  // -m - lists every namespace: still only the labels, no user.casfs.*.
  ASSERT_EQ(Sh("cd " + Q(mount.mnt() / "blobs/sha256") + " && getfattr -d -m - " + hex, &out), 0);
  EXPECT_EQ(out, "# file: " + hex + "\nuser.a=\"b c\"\nuser.containerd.io/gc.root=\"2024\"\n\n");
  EXPECT_EQ(GetXattr(mount.Blob(hex), "user.containerd.io/gc.root"), "2024");
}

TEST(MountLabelTest, SetfattrSetsAndRemoves) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "blob");
  fs::path blob = mount.Blob(hex);
  ASSERT_EQ(Sh("setfattr -n user.containerd.io/gc.root -v yes " + Q(blob)), 0);
  ASSERT_EQ(Sh("setfattr -n user.k -v v " + Q(blob)), 0);
  EXPECT_EQ(store->Info(Sha256Of(hex))->labels, (Labels{{"containerd.io/gc.root", "yes"}, {"k", "v"}}));
  // An empty value removes, and succeeds when absent.
  ASSERT_EQ(Sh("setfattr -n user.k -v '' " + Q(blob)), 0);
  ASSERT_EQ(Sh("setfattr -n user.absent -v '' " + Q(blob)), 0);
  EXPECT_EQ(store->Info(Sha256Of(hex))->labels, (Labels{{"containerd.io/gc.root", "yes"}}));
  ASSERT_EQ(Sh("setfattr -x user.containerd.io/gc.root " + Q(blob)), 0);
  EXPECT_TRUE(store->Info(Sha256Of(hex))->labels.empty());
  EXPECT_ERRNO(::removexattr(blob.c_str(), "user.containerd.io/gc.root"), ENODATA);
  EXPECT_NE(Sh("setfattr -x user.nothing " + Q(blob) + " 2>/dev/null"), 0);
  EXPECT_FALSE(GetXattr(blob, "user.k").has_value());
  EXPECT_EQ(errno, ENODATA);
}

TEST(MountLabelTest, EverySuccessfulChangeRefreshesUpdatedAt) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "times", {{"k", "v"}});
  fs::path blob = mount.Blob(hex);
  Timestamp created = store->Info(Sha256Of(hex))->created_at;
  Timestamp last = store->Info(Sha256Of(hex))->updated_at;
  auto changes_updated_at = [&](const std::function<int()>& change) {
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    EXPECT_EQ(change(), 0);
    auto info = store->Info(Sha256Of(hex));
    bool moved = info->updated_at > last;
    last = info->updated_at;
    EXPECT_EQ(info->created_at, created);
    return moved;
  };
  EXPECT_TRUE(changes_updated_at([&] { return SetXattr(blob, "user.k", "v"); }));  // no change of value
  EXPECT_TRUE(changes_updated_at([&] { return SetXattr(blob, "user.k", "w"); }));
  EXPECT_TRUE(changes_updated_at([&] { return SetXattr(blob, "user.gone", ""); }));
  EXPECT_TRUE(changes_updated_at([&] { return ::removexattr(blob.c_str(), "user.k"); }));
  // st_atime is UpdatedAt.
  struct stat st {};
  ASSERT_EQ(::stat(blob.c_str(), &st), 0);
  EXPECT_EQ(Timestamp::FromTimespec(st.st_atim), last);
}

TEST(MountLabelTest, OtherNamespacesAndInvalidLabels) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "ns");
  fs::path blob = mount.Blob(hex);
  EXPECT_FALSE(GetXattr(blob, "trusted.x").has_value());
  EXPECT_EQ(errno, ENODATA);
  EXPECT_FALSE(GetXattr(blob, "security.selinux").has_value());
  EXPECT_EQ(errno, ENODATA);
  EXPECT_ERRNO(SetXattr(blob, "trusted.x", "y"), ENOTSUP);
  EXPECT_ERRNO(SetXattr(blob, "security.x", "y"), ENOTSUP);
  // containerd's size rule, and an empty key.
  EXPECT_EQ(SetXattr(blob, "user.k", std::string(4095, 'v')), 0);
  EXPECT_ERRNO(SetXattr(blob, "user.k", std::string(4096, 'v')), EINVAL);
  EXPECT_ERRNO(SetXattr(blob, "user.", "v"), EINVAL);
  // Reserved keys.
  EXPECT_ERRNO(SetXattr(blob, "user.casfs.mine", "v"), EPERM);
  EXPECT_ERRNO(SetXattr(blob, "user.casfs.digest", "v"), EPERM);
  EXPECT_ERRNO(::removexattr(blob.c_str(), "user.casfs.digest"), EPERM);
  EXPECT_EQ(store->Info(Sha256Of(hex))->labels, (Labels{{"k", std::string(4095, 'v')}}));
}

TEST(MountLabelTest, FiveHundredGcRefLabelsOnExt4) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "index");
  fs::path blob = mount.Blob(hex);
  std::string script;
  for (int i = 0; i < 500; ++i) {
    script += "setfattr -n user.containerd.io/gc.ref.content.l." + std::to_string(i) + " -v sha256:" +
              Sha256Hex(std::to_string(i)) + " " + Q(blob) + " || exit 1\n";
  }
  ASSERT_EQ(Sh(script, nullptr, 120), 0);
  auto names = ListXattr(blob);
  ASSERT_TRUE(names.has_value()) << std::strerror(errno);
  EXPECT_EQ(names->size(), 500u);
  for (int i : {0, 17, 499}) {
    EXPECT_EQ(GetXattr(blob, "user.containerd.io/gc.ref.content.l." + std::to_string(i)),
              "sha256:" + Sha256Hex(std::to_string(i)));
  }
  std::string out;
  ASSERT_EQ(Sh("getfattr -d " + Q(blob) + " | grep -c gc.ref", &out), 0);
  EXPECT_EQ(out, "500\n");
  EXPECT_EQ(store->Info(Sha256Of(hex))->labels.size(), 500u);
}

TEST(MountLabelTest, MoreLabelNamesThanOneListCarriesIsE2big) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  Labels labels;
  // 300 keys of 240 bytes: over the 64 KiB one listxattr returns.
  for (int i = 0; i < 300; ++i) {
    std::string key = std::to_string(1000 + i);
    key.append(236, 'k');
    labels[key] = "v";
  }
  std::string hex = AddBlob(*store, "many names", labels);
  fs::path blob = mount.Blob(hex);
  EXPECT_FALSE(ListXattr(blob).has_value());
  EXPECT_EQ(errno, E2BIG);
  EXPECT_EQ(GetXattr(blob, "user." + labels.begin()->first), "v");
  EXPECT_NE(Sh("getfattr -d " + Q(blob) + " >/dev/null 2>&1"), 0);
}

TEST(MountLabelTest, StagedLabelsOnIngests) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path f = mount.Ingest("staged");
  WriteAll(f, "data");
  auto updated = GetXattr(f, "user.casfs.updatedat");
  std::this_thread::sleep_for(std::chrono::milliseconds(15));
  ASSERT_EQ(Sh("setfattr -n user.a -v 1 " + Q(f) + " && setfattr -n user.b -v 2 " + Q(f) +
               " && setfattr -n user.c -v 3 " + Q(f)), 0);
  EXPECT_EQ(GetXattr(f, "user.casfs.updatedat"), updated);  // staging leaves updatedat
  std::string out;
  ASSERT_EQ(Sh("getfattr -d " + Q(f) + " | grep user", &out), 0);
  EXPECT_EQ(out, "user.a=\"1\"\nuser.b=\"2\"\nuser.c=\"3\"\n");
  ASSERT_EQ(Sh("setfattr -n user.b -v '' " + Q(f) + " && setfattr -x user.c " + Q(f)), 0);
  EXPECT_ERRNO(::removexattr(f.c_str(), "user.c"), ENODATA);
  EXPECT_ERRNO(SetXattr(f, "user.", "v"), EINVAL);
  EXPECT_ERRNO(SetXattr(f, "user.k", std::string(4096, 'v')), EINVAL);
  EXPECT_EQ(ListXattr(f), (std::vector<std::string>{"user.a"}));
  EXPECT_EQ(GetXattr(f, "user.casfs.updatedat"), updated);
  // Kept across unmount.
  EXPECT_EQ(mount.Unmount(), 0);
  ASSERT_TRUE(mount.Mount());
  EXPECT_EQ(GetXattr(f, "user.a"), "1");
  ASSERT_EQ(::rename(f.c_str(), mount.Blob(Sha256Hex("data")).c_str()), 0);
  EXPECT_EQ(ListXattr(mount.Blob(Sha256Hex("data"))), (std::vector<std::string>{"user.a"}));
}

TEST(MountVirtualAttrTest, OnBlobs) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  auto store = OpenStore(mount);
  std::string hex = AddBlob(*store, "virtual");
  fs::path blob = mount.Blob(hex);
  EXPECT_EQ(GetXattr(blob, "user.casfs.digest"), "sha256:" + hex);
  std::string out;
  ASSERT_EQ(Sh("getfattr -n user.casfs.digest --only-values " + Q(blob), &out), 0);
  EXPECT_EQ(out, "sha256:" + hex);
  for (const char* name : {"user.casfs.ref", "user.casfs.offset", "user.casfs.total", "user.casfs.expected",
                           "user.casfs.startedat", "user.casfs.updatedat", "user.casfs.other",
                           "user.casfs.labels"}) {
    EXPECT_FALSE(GetXattr(blob, name).has_value()) << name;
    EXPECT_EQ(errno, ENODATA) << name;
  }
  EXPECT_ERRNO(SetXattr(blob, "user.casfs.total", "5"), EPERM);
  // Never listed, never stored as labels.
  EXPECT_EQ(ListXattr(blob), std::vector<std::string>{});
  EXPECT_TRUE(store->Info(Sha256Of(hex))->labels.empty());
  // Folders have none.
  EXPECT_FALSE(GetXattr(mount.mnt() / "blobs", "user.casfs.digest").has_value());
  EXPECT_EQ(errno, ENODATA);
}

TEST(MountVirtualAttrTest, OnIngests) {
  MountFixture mount;
  ASSERT_MOUNTED(mount);
  fs::path f = mount.Ingest("a%2Fb");
  Timestamp before = Timestamp::Now();
  int fd = ::open(f.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z)");
  auto started = GetXattr(f, "user.casfs.startedat");
  ASSERT_TRUE(started.has_value());
  EXPECT_TRUE(std::regex_match(*started, rfc3339)) << *started;
  EXPECT_GE(*ParseRfc3339(*started), (Timestamp{before.seconds, 0}));
  EXPECT_EQ(GetXattr(f, "user.casfs.updatedat"), started);
  EXPECT_EQ(GetXattr(f, "user.casfs.ref"), "a/b");
  EXPECT_EQ(GetXattr(f, "user.casfs.offset"), "0");
  EXPECT_EQ(GetXattr(f, "user.casfs.digest"), Sha(""));
  EXPECT_FALSE(GetXattr(f, "user.casfs.total").has_value());
  EXPECT_EQ(errno, ENODATA);
  EXPECT_FALSE(GetXattr(f, "user.casfs.expected").has_value());
  EXPECT_EQ(errno, ENODATA);

  std::this_thread::sleep_for(std::chrono::milliseconds(15));
  ASSERT_EQ(::write(fd, "hello", 5), 5);
  auto after_write = GetXattr(f, "user.casfs.updatedat");
  EXPECT_GT(*ParseRfc3339(*after_write), *ParseRfc3339(*started));
  EXPECT_EQ(GetXattr(f, "user.casfs.offset"), "5");
  EXPECT_EQ(GetXattr(f, "user.casfs.digest"), Sha("hello"));
  ::close(fd);
  // Open, close and read leave updatedat alone.
  std::this_thread::sleep_for(std::chrono::milliseconds(15));
  EXPECT_EQ(ReadAll(f), "hello");
  ::close(::open(f.c_str(), O_WRONLY));
  EXPECT_EQ(GetXattr(f, "user.casfs.updatedat"), after_write);

  // total and expected are writable; -x makes them unknown; each change
  // moves updatedat.
  ASSERT_EQ(Sh("setfattr -n user.casfs.total -v 5 " + Q(f)), 0);
  EXPECT_EQ(GetXattr(f, "user.casfs.total"), "5");
  auto after_total = GetXattr(f, "user.casfs.updatedat");
  EXPECT_GT(*ParseRfc3339(*after_total), *ParseRfc3339(*after_write));
  std::this_thread::sleep_for(std::chrono::milliseconds(15));
  ASSERT_EQ(Sh("setfattr -n user.casfs.expected -v " + Sha("hello") + " " + Q(f)), 0);
  EXPECT_EQ(GetXattr(f, "user.casfs.expected"), Sha("hello"));
  EXPECT_GT(*ParseRfc3339(*GetXattr(f, "user.casfs.updatedat")), *ParseRfc3339(*after_total));
  ASSERT_EQ(Sh("setfattr -x user.casfs.total " + Q(f) + " && setfattr -x user.casfs.expected " + Q(f)), 0);
  EXPECT_FALSE(GetXattr(f, "user.casfs.total").has_value());
  EXPECT_FALSE(GetXattr(f, "user.casfs.expected").has_value());
  EXPECT_ERRNO(::removexattr(f.c_str(), "user.casfs.total"), ENODATA);

  // Malformed values.
  for (const char* bad : {"", "-1", "+5", "5 ", "five", "0x10", "99999999999999999999"}) {
    {
      SCOPED_TRACE(bad);
      EXPECT_ERRNO(SetXattr(f, "user.casfs.total", bad), EINVAL);
    }
  }
  for (const char* bad : {"", "sha256:abc", "SHA256:00", "hello", "md5:d41d8cd98f00b204e9800998ecf8427e"}) {
    {
      SCOPED_TRACE(bad);
      EXPECT_ERRNO(SetXattr(f, "user.casfs.expected", bad), EINVAL);
    }
  }
  // Read-only ones.
  for (const char* name : {"user.casfs.digest", "user.casfs.ref", "user.casfs.offset", "user.casfs.startedat",
                           "user.casfs.updatedat"}) {
    {
      SCOPED_TRACE(name);
      EXPECT_ERRNO(SetXattr(f, name, "x"), EPERM);
    }
    {
      SCOPED_TRACE(name);
      EXPECT_ERRNO(::removexattr(f.c_str(), name), EPERM);
    }
  }
  // Not listed; only staged labels are.
  EXPECT_EQ(ListXattr(f), std::vector<std::string>{});
}

}  // namespace
}  // namespace casfs::fuse::testing
