// Several processes on one root (fork): ref locks are the kernel's, die
// with their holder, and what one process commits the other sees.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>

#include "core/local_store.h"
#include "tests/core/engine_test_util.h"

namespace casfs {
namespace {

using namespace std::chrono_literals;
using casfs::testing::ReadAll;
using casfs::testing::ReadBlob;
using casfs::testing::Sha256;
using casfs::testing::TempDir;

// A one-byte-message pipe between parent and child.
class Pipe {
 public:
  Pipe() {
    if (::pipe(fds_) != 0) std::abort();
  }
  ~Pipe() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  void Send(char c) {
    if (::write(fds_[1], &c, 1) != 1) std::abort();
  }
  // The next byte, or 0 after 30 s without one (a child that died early
  // must fail the test, not hang it: both processes hold the write end).
  char Receive() {
    struct pollfd pfd {fds_[0], POLLIN, 0};
    if (::poll(&pfd, 1, 30000) != 1) return 0;
    char c = 0;
    return ::read(fds_[0], &c, 1) == 1 ? c : 0;
  }

 private:
  int fds_[2];
};

// Forks; the child runs `body` and exits with its return value (never
// returning into gtest). Returns the child's pid.
template <typename F>
pid_t Spawn(F&& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::_exit(body());
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::unique_ptr<LocalStore> OpenStore(const std::filesystem::path& root) {
  auto store = LocalStore::Open(root);
  if (!store.ok()) return nullptr;
  return std::move(*store);
}

Result<std::unique_ptr<Writer>> OpenWriter(LocalStore& store, const std::string& ref,
                                           std::chrono::milliseconds wait = 0ms) {
  WriterOptions options;
  options.ref = ref;
  options.lock_wait = wait;
  return store.OpenWriter(options);
}

// Chunk i of an endless deterministic stream.
std::string StreamChunk(size_t i) { return casfs::testing::Pattern(256 << 10, static_cast<uint32_t>(i + 1)); }

std::string StreamPrefix(size_t size) {
  std::string out;
  for (size_t i = 0; out.size() < size; ++i) out += StreamChunk(i);
  out.resize(size);
  return out;
}

class MultiprocessTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::filesystem::path root_ = dir_.path();
};

TEST_F(MultiprocessTest, TwoProcessesRacingForOneRefOneGetsUnavailable) {
  for (int round = 0; round < 10; ++round) {
    const std::string ref = "race-" + std::to_string(round);
    Pipe go, child_result, release;
    pid_t child = Spawn([&] {
      auto store = OpenStore(root_);
      if (!store) return 2;
      go.Receive();
      auto writer = OpenWriter(*store, ref);
      child_result.Send(writer.ok() ? 'w' : writer.status().Is(ErrorKind::kUnavailable) ? 'u' : 'e');
      release.Receive();  // hold the writer (if any) until the parent is done
      return 0;
    });
    auto store = OpenStore(root_);
    ASSERT_TRUE(store);
    go.Send('g');
    auto writer = OpenWriter(*store, ref);
    const char theirs = child_result.Receive();
    const bool mine = writer.ok();
    if (!mine) {
      EXPECT_TRUE(writer.status().Is(ErrorKind::kUnavailable)) << writer.status().ToString();
    }
    // Exactly one of the two holds the ref.
    EXPECT_TRUE((mine && theirs == 'u') || (!mine && theirs == 'w')) << "round " << round << " child " << theirs;
    release.Send('r');
    EXPECT_EQ(WaitExit(child), 0);
  }
}

TEST_F(MultiprocessTest, ALockHeldByAKilledProcessIsFree) {
  Pipe ready;
  pid_t child = Spawn([&] {
    auto store = OpenStore(root_);
    if (!store) return 2;
    auto writer = OpenWriter(*store, "held");
    if (!writer.ok()) return 3;
    ready.Send('l');
    for (;;) ::pause();
  });
  ASSERT_EQ(ready.Receive(), 'l');
  auto store = OpenStore(root_);
  ASSERT_TRUE(store);
  auto busy = OpenWriter(*store, "held");
  ASSERT_FALSE(busy.ok());
  EXPECT_TRUE(busy.status().Is(ErrorKind::kUnavailable));
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  EXPECT_EQ(WaitExit(child), 128 + SIGKILL);
  auto free_now = OpenWriter(*store, "held");
  EXPECT_TRUE(free_now.ok()) << free_now.status().ToString();
}

TEST_F(MultiprocessTest, ResumeAfterTheWriterIsKilledMidWrite) {
  Pipe progress;
  pid_t child = Spawn([&] {
    auto store = OpenStore(root_);
    if (!store) return 2;
    auto writer = OpenWriter(*store, "killed");
    if (!writer.ok()) return 3;
    for (size_t i = 0;; ++i) {
      const std::string chunk = StreamChunk(i);
      if (!(*writer)->Write(chunk.data(), chunk.size()).ok()) return 4;
      if (i == 20) progress.Send('p');  // enough to kill it mid-stream
    }
  });
  ASSERT_EQ(progress.Receive(), 'p');
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  EXPECT_EQ(WaitExit(child), 128 + SIGKILL);

  auto store = OpenStore(root_);
  ASSERT_TRUE(store);
  auto status = store->GetStatus("killed");
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  auto writer = OpenWriter(*store, "killed");
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  const int64_t size = (*writer)->Size();
  EXPECT_EQ(size, status->offset);
  EXPECT_GE(size, static_cast<int64_t>(21 * StreamChunk(0).size()));
  const std::string prefix = StreamPrefix(static_cast<size_t>(size));
  EXPECT_EQ(ReadAll(store->layout().IngestDir("killed") / "data"), prefix);
  auto digest = (*writer)->CurrentDigest();
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(*digest, Sha256(prefix));
  // Finish the stream where it stopped and commit it.
  const std::string whole = StreamPrefix(static_cast<size_t>(size) + 1000);
  CASFS_ASSERT_OK((*writer)->Write(whole.data() + size, 1000));
  CASFS_ASSERT_OK((*writer)->Commit(static_cast<int64_t>(whole.size()), Sha256(whole)));
  EXPECT_EQ(ReadBlob(*store, Sha256(whole)), whole);
}

TEST_F(MultiprocessTest, AStoreSharedByTwoProcessesWhileOneCommits) {
  auto store = OpenStore(root_);
  ASSERT_TRUE(store);
  auto mine = OpenWriter(*store, "parent's");
  ASSERT_TRUE(mine.ok());
  CASFS_ASSERT_OK((*mine)->Write("pending", 7));

  Pipe done;
  pid_t child = Spawn([&] {
    auto other = OpenStore(root_);
    if (!other) return 2;
    // It sees the parent's ingest...
    auto listed = other->ListStatuses();
    if (!listed.ok() || listed->size() != 1 || (*listed)[0].ref != "parent's") return 3;
    // ...cannot take its ref...
    if (!OpenWriter(*other, "parent's").status().Is(ErrorKind::kUnavailable)) return 4;
    // ...and commits content of its own.
    if (!casfs::testing::WriteBlob(*other, "child's", "from the child", CommitOptions{Labels{{"by", "child"}}}).ok()) {
      return 5;
    }
    done.Send('c');
    return 0;
  });
  ASSERT_EQ(done.Receive(), 'c');
  EXPECT_EQ(WaitExit(child), 0);

  auto info = store->Info(Sha256("from the child"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->labels, (Labels{{"by", "child"}}));
  EXPECT_EQ(ReadBlob(*store, Sha256("from the child")), "from the child");
  std::vector<std::string> walked;
  CASFS_ASSERT_OK(store->Walk([&](const BlobInfo& blob) {
    walked.push_back(blob.digest.ToString());
    return Status::Ok();
  }));
  EXPECT_EQ(walked, std::vector<std::string>{Sha256("from the child").ToString()});
  EXPECT_TRUE(casfs::testing::WriteBlob(*store, "again", "from the child").IsAlreadyExists());
  CASFS_ASSERT_OK((*mine)->Commit(7, Sha256("pending")));
}

TEST_F(MultiprocessTest, TwoProcessesCommittingTheSameContentOneWins) {
  for (int round = 0; round < 10; ++round) {
    const std::string content = "shared content " + std::to_string(round);
    Pipe go, result;
    pid_t child = Spawn([&] {
      auto store = OpenStore(root_);
      if (!store) return 2;
      auto writer = OpenWriter(*store, "child-" + std::to_string(round));
      if (!writer.ok() || !(*writer)->Write(content.data(), content.size()).ok()) return 3;
      (void)(*writer)->CurrentDigest();
      go.Receive();
      Status committed = (*writer)->Commit(0, Sha256(content));
      result.Send(committed.ok() ? 'o' : committed.IsAlreadyExists() ? 'e' : 'x');
      return 0;
    });
    auto store = OpenStore(root_);
    ASSERT_TRUE(store);
    auto writer = OpenWriter(*store, "parent-" + std::to_string(round));
    ASSERT_TRUE(writer.ok());
    CASFS_ASSERT_OK((*writer)->Write(content.data(), content.size()));
    (void)(*writer)->CurrentDigest();
    go.Send('g');
    Status committed = (*writer)->Commit(0, Sha256(content));
    const char theirs = result.Receive();
    EXPECT_EQ(WaitExit(child), 0);
    EXPECT_TRUE((committed.ok() && theirs == 'e') || (committed.IsAlreadyExists() && theirs == 'o'))
        << committed.ToString() << " / child " << theirs;
    EXPECT_EQ(ReadBlob(*store, Sha256(content)), content);
  }
}

// Everything a user does, done by a user without root (no
// CAP_DAC_OVERRIDE: a 0444 blob refuses them user.* attributes).
TEST_F(MultiprocessTest, TheStoreNeedsNoRoot) {
  auto work = [&]() -> int {
    auto store = OpenStore(root_ / "store");
    if (!store) return 2;
    if (!casfs::testing::WriteBlob(*store, "a", "blob", CommitOptions{Labels{{"k", "v"}}}).ok()) return 3;
    const Digest d = Sha256("blob");
    if (!store->SetLabel(d, "k2", "v2").ok()) return 4;
    if (!store->RemoveLabel(d, "k").ok()) return 5;
    Labels many;
    for (int i = 0; i < 200; ++i) many["containerd.io/gc.ref.content.l." + std::to_string(i)] = d.ToString();
    BlobInfo info;
    info.digest = d;
    info.labels = many;
    if (!store->Update(info, {}).ok()) return 6;
    if (store->Info(d)->labels != many) return 7;
    if (!store->SetLabel(d, "small", "again").ok()) return 8;
    info.labels = {{"small", "set"}};
    if (!store->Update(info, {}).ok()) return 9;  // back from overflow to the attribute
    if (store->Info(d)->labels != info.labels) return 10;
    // The same content again: labels merge into the read-only blob.
    Status again = casfs::testing::WriteBlob(*store, "b", "blob", CommitOptions{Labels{{"merged", "yes"}}});
    if (!again.IsAlreadyExists()) return 11;
    if (store->Info(d)->labels.count("merged") != 1) return 12;
    auto writer = OpenWriter(*store, "resumed");
    if (!writer.ok() || !(*writer)->Write("part", 4).ok() || !(*writer)->Close().ok()) return 13;
    auto resumed = OpenWriter(*store, "resumed");
    if (!resumed.ok() || (*resumed)->Size() != 4 || !(*resumed)->Commit(4, Sha256("part")).ok()) return 14;
    if (!store->Delete(d).ok() || store->Info(d).ok()) return 15;
    return 0;
  };
  if (::geteuid() != 0) {
    EXPECT_EQ(work(), 0);
    return;
  }
  ASSERT_EQ(::chown(root_.c_str(), 65534, 65534), 0);
  pid_t child = Spawn([&] {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 1;
    ::umask(022);
    return work();
  });
  EXPECT_EQ(WaitExit(child), 0) << "the exit code names the step that failed";
}

}  // namespace
}  // namespace casfs
