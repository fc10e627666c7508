#include "util/status.h"

#include <cerrno>
#include <cstring>

namespace pgrt {
namespace {

// The one place errno becomes a code.
StatusCode CodeOfErrno(int err) {
  switch (err) {
    case ENOENT:
    case ESRCH:
      return StatusCode::kNotFound;
    case EEXIST:
      return StatusCode::kAlreadyExists;
    case EACCES:
    case EPERM:
      return StatusCode::kPermissionDenied;
    case ENOSPC:
    case EDQUOT:
    case EROFS:
    case EIO:
      return StatusCode::kIoError;
    case ETIMEDOUT:
      return StatusCode::kDeadlineExceeded;
    case ECONNREFUSED:
    case ECONNRESET:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EADDRINUSE:
    case EADDRNOTAVAIL:
    case EAGAIN:
      return StatusCode::kUnavailable;
    case EINVAL:
    case ENAMETOOLONG:
    case ENOTDIR:
    case EISDIR:
      return StatusCode::kInvalidArgument;
    case EBUSY:
      return StatusCode::kBusy;
    case ENOTEMPTY:
      return StatusCode::kFailedPrecondition;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

const char* ToString(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInternal:
      return "internal";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kNotFound:
      return "not found";
    case StatusCode::kAlreadyExists:
      return "already exists";
    case StatusCode::kFailedPrecondition:
      return "failed precondition";
    case StatusCode::kBusy:
      return "busy";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kDeadlineExceeded:
      return "deadline exceeded";
    case StatusCode::kPermissionDenied:
      return "permission denied";
    case StatusCode::kIoError:
      return "I/O error";
  }
  return "unknown";
}

Status ErrnoStatus(std::string_view context, int err) {
  return Status::Make(CodeOfErrno(err), std::string(context) + ": " + std::strerror(err));
}

Status ErrnoStatus(std::string_view context) { return ErrnoStatus(context, errno); }

}  // namespace pgrt
