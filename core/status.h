// Errors as values.
//
// Every fallible engine call returns a Status (or a Result<T>, which holds
// either a value or a non-ok Status). A Status has a Kind that matches
// containerd's error classes (errdefs), so a client that branches on
// "not found" or "already exists" behaves the same against casfs as
// against containerd, and a message that names what failed: the digest,
// the ref or the path.
//
// errno enters the engine in exactly one place, Status::FromErrno, and
// leaves it in exactly one place, ToErrno, which the mount uses to answer
// the kernel. No exception crosses a module boundary.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace casfs {

enum class ErrorKind : uint8_t {
  kOk = 0,
  // containerd's kinds.
  kInvalidArgument,     // bad digest, ref, filter, label, field path
  kNotFound,            // no such blob or ingest
  kAlreadyExists,       // the content is already committed
  kFailedPrecondition,  // commit size/digest mismatch, commit on a closed writer
  kUnavailable,         // the ref is locked by another writer
  kNotImplemented,
  // casfs' own, for the mount's errno table; containerd would call these Unknown.
  kPermissionDenied,  // reserved label key, modifying a fixed or read-only thing
  kReadOnly,          // the store was opened read-only
  kIOError,           // an OS error with no better kind; errno is kept
  kInternal,          // a broken invariant inside casfs
};

// The containerd text for a kind ("not found", "already exists", ...).
std::string_view KindName(ErrorKind kind);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message) {
    return Status(ErrorKind::kInvalidArgument, std::move(message));
  }
  static Status NotFound(std::string message) {
    return Status(ErrorKind::kNotFound, std::move(message));
  }
  static Status AlreadyExists(std::string message) {
    return Status(ErrorKind::kAlreadyExists, std::move(message));
  }
  static Status FailedPrecondition(std::string message) {
    return Status(ErrorKind::kFailedPrecondition, std::move(message));
  }
  static Status Unavailable(std::string message) {
    return Status(ErrorKind::kUnavailable, std::move(message));
  }
  static Status NotImplemented(std::string message) {
    return Status(ErrorKind::kNotImplemented, std::move(message));
  }
  static Status PermissionDenied(std::string message) {
    return Status(ErrorKind::kPermissionDenied, std::move(message));
  }
  static Status ReadOnly(std::string message) {
    return Status(ErrorKind::kReadOnly, std::move(message));
  }
  static Status Internal(std::string message) {
    return Status(ErrorKind::kInternal, std::move(message));
  }

  // The one way an errno becomes a Status. `context` names the operation
  // and its object, e.g. "open /root/blobs/sha256/ab..". ENOENT becomes
  // kNotFound, EEXIST kAlreadyExists, EINVAL kInvalidArgument, EROFS
  // kReadOnly, EPERM/EACCES kPermissionDenied, EWOULDBLOCK kUnavailable;
  // everything else kIOError. The errno is kept in every case.
  static Status FromErrno(std::string_view context, int err);

  bool ok() const { return kind_ == ErrorKind::kOk; }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // The OS error this status came from, if any.
  std::optional<int> sys_errno() const { return sys_errno_; }

  bool Is(ErrorKind kind) const { return kind_ == kind; }
  bool IsNotFound() const { return kind_ == ErrorKind::kNotFound; }
  bool IsAlreadyExists() const { return kind_ == ErrorKind::kAlreadyExists; }

  // "<message>: <kind name>", as containerd prints its errors; "ok" if ok.
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>"; kind and errno kept.
  Status WithContext(std::string_view prefix) const;

 private:
  Status(ErrorKind kind, std::string message, std::optional<int> err = std::nullopt)
      : kind_(kind), message_(std::move(message)), sys_errno_(err) {}

  ErrorKind kind_ = ErrorKind::kOk;
  std::string message_;
  std::optional<int> sys_errno_;
};

// The one way a Status becomes an errno (for the mount's replies).
// ok -> 0; kInvalidArgument and kFailedPrecondition -> EINVAL; kNotFound ->
// ENOENT; kAlreadyExists -> EEXIST; kUnavailable -> EBUSY; kNotImplemented
// -> ENOSYS; kPermissionDenied -> EPERM; kReadOnly -> EROFS; kIOError -> the
// kept errno (ENOSPC, EIO, ...), EIO if none; kInternal -> EIO.
int ToErrno(const Status& status);

// `text` in double quotes, for messages that name a ref (which may hold
// spaces or be empty).
std::string Quoted(std::string_view text);

// Holds a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Status::Internal("Result built from an ok Status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace casfs

// Return early with the status of a failed call.
#define CASFS_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::casfs::Status casfs_status_ = (expr);  \
    if (!casfs_status_.ok()) return casfs_status_; \
  } while (0)
