// FakeClock: a fake, for tests only. Time moves only when Advance() is called, so logic that
// waits 30 s (a lease, an idle timeout, a restart backoff) is tested in milliseconds: an
// EventLoop built on it runs a timer as soon as the clock has been advanced past its deadline
// and the loop turns (RunOnce). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>

#include "util/clock.h"

namespace pgrt {

class FakeClock final : public Clock {
 public:
  // Starts an hour after the steady epoch (so "now minus a few seconds" stays positive) and at
  // `wall` on the wall clock.
  explicit FakeClock(SystemTime wall = SystemTime(std::chrono::seconds(1700000000)))
      : steady_(std::chrono::hours(1)), wall_(wall.time_since_epoch()) {}

  SteadyTime Now() const override { return SteadyTime(steady_.load()); }
  SystemTime WallNow() const override {
    return SystemTime(std::chrono::duration_cast<SystemTime::duration>(wall_.load()));
  }
  void Advance(Millis d) {
    steady_.store(steady_.load() + d);
    wall_.store(wall_.load() + d);
  }

 private:
  std::atomic<SteadyTime::duration> steady_;
  std::atomic<SystemTime::duration> wall_;
};

}  // namespace pgrt
