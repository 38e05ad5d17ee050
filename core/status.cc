#include "core/status.h"

#include <cerrno>
#include <cstring>

namespace casfs {

std::string_view KindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk: return "ok";
    case ErrorKind::kInvalidArgument: return "invalid argument";
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kAlreadyExists: return "already exists";
    case ErrorKind::kFailedPrecondition: return "failed precondition";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kNotImplemented: return "not implemented";
    case ErrorKind::kPermissionDenied: return "permission denied";
    case ErrorKind::kReadOnly: return "read-only store";
    case ErrorKind::kIOError: return "i/o error";
    case ErrorKind::kInternal: return "internal error";
  }
  return "unknown";
}

Status Status::FromErrno(std::string_view context, int err) {
  ErrorKind kind = ErrorKind::kIOError;
  switch (err) {
    case ENOENT: kind = ErrorKind::kNotFound; break;
    case EEXIST: kind = ErrorKind::kAlreadyExists; break;
    case EINVAL: kind = ErrorKind::kInvalidArgument; break;
    case EROFS: kind = ErrorKind::kReadOnly; break;
    case EPERM:
    case EACCES: kind = ErrorKind::kPermissionDenied; break;
    case EWOULDBLOCK: kind = ErrorKind::kUnavailable; break;
    default: break;
  }
  std::string message(context);
  message += ": ";
  message += std::strerror(err);
  return Status(kind, std::move(message), err);
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out = message_;
  out += ": ";
  out += KindName(kind_);
  return out;
}

Status Status::WithContext(std::string_view prefix) const {
  if (ok()) return *this;
  std::string message(prefix);
  message += ": ";
  message += message_;
  return Status(kind_, std::move(message), sys_errno_);
}

std::string Quoted(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += '"';
  return out;
}

int ToErrno(const Status& status) {
  switch (status.kind()) {
    case ErrorKind::kOk: return 0;
    case ErrorKind::kInvalidArgument:
    case ErrorKind::kFailedPrecondition: return EINVAL;
    case ErrorKind::kNotFound: return ENOENT;
    case ErrorKind::kAlreadyExists: return EEXIST;
    case ErrorKind::kUnavailable: return EBUSY;
    case ErrorKind::kNotImplemented: return ENOSYS;
    case ErrorKind::kPermissionDenied: return EPERM;
    case ErrorKind::kReadOnly: return EROFS;
    case ErrorKind::kIOError: return status.sys_errno().value_or(EIO);
    case ErrorKind::kInternal: return EIO;
  }
  return EIO;
}

}  // namespace casfs
