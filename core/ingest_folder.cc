#include "core/ingest_folder.h"

#include <charconv>

#include <spdlog/spdlog.h>

#include "core/layout.h"
#include "core/posix.h"

namespace casfs::ingest {
namespace {

constexpr size_t kHashChunk = 1 << 20;
constexpr std::string_view kCheckpointHeader = "casfs-hashstate 1";

// Go's strconv.ParseInt(s, 10, 64): an optional sign, then digits only.
std::optional<int64_t> ParseDecimal(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]);
    int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>((hi << 4) | lo);
  }
  return out;
}

// The fields of a checkpoint that identify the data it describes.
std::string DataIdentity(const struct stat& data) {
  std::string out;
  out += "size " + std::to_string(data.st_size) + "\n";
  out += "mtime " + std::to_string(data.st_mtim.tv_sec) + " " + std::to_string(data.st_mtim.tv_nsec) +
         "\n";
  out += "ctime " + std::to_string(data.st_ctim.tv_sec) + " " + std::to_string(data.st_ctim.tv_nsec) +
         "\n";
  out += "ino " + std::to_string(static_cast<uint64_t>(data.st_ino)) + "\n";
  return out;
}

Timestamp Mtime(const struct stat& st) { return Timestamp::FromTimespec(st.st_mtim); }

// unlink, missing is fine; `durable` syncs the folder when a file went.
Status Remove(const std::filesystem::path& file, bool durable) {
  Status removed = posix::Unlink(file, /*missing_ok=*/false);
  if (removed.IsNotFound()) return Status::Ok();
  CASFS_RETURN_IF_ERROR(removed);
  return durable ? posix::FsyncPath(file.parent_path()) : Status::Ok();
}

}  // namespace

std::filesystem::path FilePath(const std::filesystem::path& dir, std::string_view name) {
  return dir / name;
}

Result<IngestStatus> ReadStatus(const std::filesystem::path& dir,
                                std::optional<std::string_view> known_ref) {
  auto data = posix::Lstat(FilePath(dir, Layout::kDataFile));
  if (!data.ok()) {
    if (data.status().IsNotFound() || data.status().sys_errno() == ENOTDIR) {
      return Status::NotFound("no ingest data in " + dir.native());
    }
    return data.status();
  }
  if (!S_ISREG(data->st_mode)) return Status::NotFound("ingest data in " + dir.native() + " is not a file");

  IngestStatus status;
  auto ref = posix::ReadFile(FilePath(dir, Layout::kRefFile));
  if (known_ref.has_value()) {
    status.ref = std::string(*known_ref);
  } else {
    if (!ref.ok()) return Status::NotFound("ingest " + dir.native() + " has no readable ref");
    if (Layout::IngestFolderName(*ref) != dir.filename().native()) {
      return Status::NotFound("ingest " + dir.native() + ": ref file does not match the folder name");
    }
    status.ref = std::move(*ref);
  }

  const Timestamp mtime = Mtime(*data);
  std::optional<Timestamp> started = ReadTimestamp(FilePath(dir, Layout::kStartedAtFile));
  std::optional<Timestamp> updated = ReadTimestamp(FilePath(dir, Layout::kUpdatedAtFile));
  status.started_at = started.value_or(mtime);
  status.updated_at = std::max(updated.value_or(status.started_at), mtime);
  status.offset = data->st_size;
  status.total = ReadTotal(dir);
  status.expected = ReadExpected(dir);
  return status;
}

int64_t ReadTotal(const std::filesystem::path& dir) {
  auto text = posix::ReadFile(FilePath(dir, Layout::kTotalFile));
  if (!text.ok()) return 0;
  return ParseDecimal(*text).value_or(0);
}

Status WriteTotal(const std::filesystem::path& dir, int64_t total, bool durable) {
  const std::filesystem::path file = FilePath(dir, Layout::kTotalFile);
  if (total <= 0) return Remove(file, durable);
  const std::string text = std::to_string(total);
  if (durable) return posix::WriteFileAtomic(file, text, /*durable=*/true);
  return posix::WriteFileInPlace(file, text);
}

std::optional<Digest> ReadExpected(const std::filesystem::path& dir) {
  auto text = posix::ReadFile(FilePath(dir, Layout::kExpectedFile));
  if (!text.ok()) return std::nullopt;
  auto digest = Digest::Parse(*text);
  if (!digest.ok()) {
    spdlog::warn("ingest {}: ignoring unreadable {}: {}", dir.native(), Layout::kExpectedFile,
                 digest.status().ToString());
    return std::nullopt;
  }
  return *digest;
}

Status WriteExpected(const std::filesystem::path& dir, const std::optional<Digest>& expected,
                     bool durable) {
  const std::filesystem::path file = FilePath(dir, Layout::kExpectedFile);
  if (!expected.has_value()) return Remove(file, durable);
  return posix::WriteFileAtomic(file, expected->ToString(), durable);
}

Result<Labels> ReadStagedLabels(const std::filesystem::path& dir) {
  const std::filesystem::path file = FilePath(dir, Layout::kStagedLabelsFile);
  auto text = posix::ReadFile(file);
  if (!text.ok()) {
    if (text.status().IsNotFound()) return Labels{};
    return text.status();
  }
  return DecodeLabels(*text, file.native());
}

Status WriteStagedLabels(const std::filesystem::path& dir, const Labels& labels) {
  const std::filesystem::path file = FilePath(dir, Layout::kStagedLabelsFile);
  if (labels.empty()) return Remove(file, /*durable=*/true);
  return posix::WriteFileAtomic(file, EncodeLabels(labels), /*durable=*/true);
}

std::optional<Timestamp> ReadTimestamp(const std::filesystem::path& file) {
  auto text = posix::ReadFile(file);
  if (!text.ok()) return std::nullopt;
  auto parsed = ParseRfc3339(*text);
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

Status WriteTimestamp(const std::filesystem::path& file, Timestamp t) {
  return posix::WriteFileAtomic(file, FormatRfc3339Nano(t), /*durable=*/false);
}

std::optional<ResumableSha256> LoadCheckpoint(const std::filesystem::path& dir,
                                              const struct stat& data) {
  auto text = posix::ReadFile(FilePath(dir, Layout::kHashStateFile));
  if (!text.ok()) return std::nullopt;
  const std::string expected_head = std::string(kCheckpointHeader) + "\n" + DataIdentity(data);
  std::string_view view(*text);
  if (!view.starts_with(expected_head)) return std::nullopt;
  view.remove_prefix(expected_head.size());
  constexpr std::string_view kStatePrefix = "state ";
  if (!view.starts_with(kStatePrefix) || !view.ends_with('\n')) return std::nullopt;
  view.remove_prefix(kStatePrefix.size());
  view.remove_suffix(1);
  auto snapshot = Unhex(view);
  if (!snapshot.has_value()) return std::nullopt;
  auto hash = ResumableSha256::Load(*snapshot);
  if (!hash.has_value()) return std::nullopt;
  if (hash->length() != static_cast<uint64_t>(data.st_size)) return std::nullopt;
  return hash;
}

Status SaveCheckpoint(const std::filesystem::path& dir, const ResumableSha256& hash,
                      const struct stat& data) {
  if (hash.length() != static_cast<uint64_t>(data.st_size)) {
    return Status::Internal("hash checkpoint of " + dir.native() + " would not cover the data");
  }
  std::string text = std::string(kCheckpointHeader) + "\n" + DataIdentity(data);
  text += "state " + Hex(hash.Save()) + "\n";
  // Not durable on purpose: a lost or torn checkpoint only costs a rehash,
  // and one that survives describes its data exactly or is ignored.
  return posix::WriteFileAtomic(FilePath(dir, Layout::kHashStateFile), text, /*durable=*/false);
}

Result<bool> RemoveCheckpoint(const std::filesystem::path& dir) {
  Status status = posix::Unlink(FilePath(dir, Layout::kHashStateFile), /*missing_ok=*/false);
  if (status.ok()) return true;
  if (status.IsNotFound()) return false;
  return status;
}

namespace {

template <typename Hash>
Status FeedRange(int fd, Hash* hash, int64_t from, int64_t to, std::vector<char>* scratch) {
  if (to <= from) return Status::Ok();
  if (scratch->size() < kHashChunk) scratch->resize(kHashChunk);
  int64_t at = from;
  while (at < to) {
    size_t want = static_cast<size_t>(std::min<int64_t>(to - at, kHashChunk));
    auto got = posix::PreadFull(fd, scratch->data(), want, at);
    if (!got.ok()) return got.status();
    if (*got != want) {
      return Status::FromErrno("hash ingest data: file ended at " + std::to_string(at + *got) +
                                   ", expected " + std::to_string(to),
                               EIO);
    }
    hash->Update(scratch->data(), want);
    at += static_cast<int64_t>(want);
  }
  return Status::Ok();
}

}  // namespace

Status HashRange(int fd, ResumableSha256* hash, int64_t from, int64_t to,
                 std::vector<char>* scratch) {
  return FeedRange(fd, hash, from, to, scratch);
}

Status HashRange(int fd, Digester* hash, int64_t from, int64_t to, std::vector<char>* scratch) {
  return FeedRange(fd, hash, from, to, scratch);
}

}  // namespace casfs::ingest
