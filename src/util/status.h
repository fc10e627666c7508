// Status and Result<T>: the one error type of pgrt.
//
// Errors are values at every boundary. Each layer adds context in front of the
// message it got ("start postgres: spawn: fork: Resource temporarily unavailable"),
// so the final message reads from the outside in.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pgrt {

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !message_.has_value(); }
  explicit operator bool() const { return ok(); }
  const std::string& message() const {
    static const std::string kOk = "ok";
    return message_ ? *message_ : kOk;
  }
  // "context: message"; OK stays OK.
  Status Wrap(std::string_view context) const {
    if (ok()) return *this;
    return Status(std::string(context) + ": " + *message_);
  }
  const Status& status() const { return *this; }
  void IgnoreError() const {}

 private:
  explicit Status(std::string message) : message_(std::move(message)) {}
  std::optional<std::string> message_;
};

// The error of the last failing libc call, as "context: strerror(errno)".
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
#define PGRT_RETURN_IF_ERROR(expr, context)            \
  do {                                                 \
    auto _st = (expr);                                 \
    if (!_st.ok()) return _st.status().Wrap(context);  \
  } while (0)
