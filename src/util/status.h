// Status and Result<T>: the one error type of pgrt.
//
// Errors are values at every boundary. Each layer adds context in front of the
// message it got ("start postgres: spawn: fork: Resource temporarily unavailable"),
// so the final message reads from the outside in. A small set of codes (LevelDB's and
// gRPC's) says what kind of failure it was: callers decide on codes, never on message
// text; errno and SQLSTATE are mapped to codes once, where they arise (status.cc,
// pg/connection.cc). HTTP status codes exist only in api/.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pgrt {

enum class StatusCode {
  kOk,
  kInternal,            // a failure with no better code (Status::Error)
  kInvalidArgument,     // the caller's input is wrong
  kNotFound,            // the thing asked for does not exist
  kAlreadyExists,       // the thing to create exists
  kFailedPrecondition,  // the system is not in a state that allows it (wrong role)
  kBusy,                // in use by someone else (an active slot, a backup already running)
  kUnavailable,         // cannot reach it now (refused, down, starting); a retry may work
  kDeadlineExceeded,    // no answer in time
  kPermissionDenied,    // not allowed
  kIoError,             // the disk said no (full, read-only, I/O error)
};
const char* ToString(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  static Status Ok() { return Status(); }
  static Status Error(std::string message) {
    return Status(StatusCode::kInternal, std::move(message));
  }
  static Status Make(StatusCode code, std::string message) {
    return Status(code, std::move(message));
  }
  static Status InvalidArgument(std::string m) {
    return Make(StatusCode::kInvalidArgument, std::move(m));
  }
  static Status NotFound(std::string m) { return Make(StatusCode::kNotFound, std::move(m)); }
  static Status AlreadyExists(std::string m) {
    return Make(StatusCode::kAlreadyExists, std::move(m));
  }
  static Status FailedPrecondition(std::string m) {
    return Make(StatusCode::kFailedPrecondition, std::move(m));
  }
  static Status Busy(std::string m) { return Make(StatusCode::kBusy, std::move(m)); }
  static Status Unavailable(std::string m) { return Make(StatusCode::kUnavailable, std::move(m)); }
  static Status DeadlineExceeded(std::string m) {
    return Make(StatusCode::kDeadlineExceeded, std::move(m));
  }
  static Status PermissionDenied(std::string m) {
    return Make(StatusCode::kPermissionDenied, std::move(m));
  }
  static Status IoError(std::string m) { return Make(StatusCode::kIoError, std::move(m)); }

  bool ok() const { return !message_.has_value(); }
  StatusCode code() const { return code_; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code_ == StatusCode::kAlreadyExists; }
  bool IsInvalidArgument() const { return code_ == StatusCode::kInvalidArgument; }
  bool IsFailedPrecondition() const { return code_ == StatusCode::kFailedPrecondition; }
  bool IsBusy() const { return code_ == StatusCode::kBusy; }
  bool IsUnavailable() const { return code_ == StatusCode::kUnavailable; }
  bool IsDeadlineExceeded() const { return code_ == StatusCode::kDeadlineExceeded; }
  bool IsIoError() const { return code_ == StatusCode::kIoError; }
  explicit operator bool() const { return ok(); }
  const std::string& message() const {
    static const std::string kOk = "ok";
    return message_ ? *message_ : kOk;
  }
  // "context: message"; OK stays OK.
  Status Wrap(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, std::string(context) + ": " + *message_);
  }
  const Status& status() const { return *this; }
  void IgnoreError() const {}

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  StatusCode code_ = StatusCode::kOk;
  std::optional<std::string> message_;
};

// The error of the last failing libc call, as "context: strerror(errno)", with the code
// errno maps to (ENOENT → NotFound, ENOSPC/EROFS/EIO → IoError, ...).
Status ErrnoStatus(std::string_view context);
Status ErrnoStatus(std::string_view context, int err);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  // A reference, so `const std::string& m = r.status().message();` cannot dangle.
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace pgrt

// Early return of a failed Status or Result, with context added.
#define PGRT_RETURN_IF_ERROR(expr, context)           \
  do {                                                \
    auto _st = (expr);                                \
    if (!_st.ok()) return _st.status().Wrap(context); \
  } while (0)
