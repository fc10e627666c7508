// Turning a test's own event loop until an asynchronous answer arrives (the etcd client's
// tests): Until polls a condition, Wait makes a call and returns its answer.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>

#include "process/event_loop.h"
#include "util/status.h"

namespace pgrt::testing {

// Turns `loop` until `done` or `limit`.
inline bool TurnUntil(EventLoop& loop, const std::function<bool()>& done,
                      Millis limit = Millis(5000)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    EXPECT_TRUE(loop.RunOnce(Millis(20)).ok());
  }
  return true;
}

// Makes `call` with a callback and turns `loop` until it answered (an error when it did not).
template <typename T>
Result<T> TurnForAnswer(EventLoop& loop, std::function<void(std::function<void(Result<T>)>)> call) {
  std::optional<Result<T>> out;
  call([&](Result<T> r) { out.emplace(std::move(r)); });
  EXPECT_TRUE(TurnUntil(loop, [&] { return out.has_value(); })) << "no answer";
  return out ? std::move(*out) : Result<T>(Status::Error("no answer"));
}

}  // namespace pgrt::testing
