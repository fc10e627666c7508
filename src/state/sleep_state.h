// SleepState: the scale-to-zero side of a node (PGRT_IDLE_TIMEOUT) as status and metrics
// show it: whether postgres sleeps, the client sessions the door holds, and the wakes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "util/clock.h"

namespace pgrt {

struct WakeRecord {
  SystemTime at;       // when postgres was ready again
  double seconds = 0;  // how long the first held client waited (0: no client waited)
  std::string why;     // what woke it
};

struct SleepState {
  // Upper bounds of the wake-latency histogram's buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 10> kBuckets = {0.025, 0.05, 0.1, 0.25, 0.5,
                                                      1,     2.5,  5,   10,   30};
  static constexpr size_t kRecentWakes = 20;

  int idle_timeout_seconds = 0;
  bool asleep = false;  // postgres hibernated
  // postgres shares the client port (the handoff): clients connect to it directly while it
  // is up; false: every client is relayed through pgrt.
  bool handoff = false;
  size_t sessions = 0;    // client sessions through the door now (held or relayed)
  size_t held = 0;        // of which waiting for postgres
  uint64_t accepted = 0;  // client connections since pgrt started
  uint64_t refused = 0;   // clients sent an error (wake timed out or failed)
  uint64_t sleeps = 0;
  uint64_t wakes = 0;
  std::array<uint64_t, kBuckets.size()> wake_buckets{};  // not cumulative
  double wake_seconds_sum = 0;
  double asleep_seconds_total = 0;  // finished sleeps; the current one is asleep_since
  std::optional<SystemTime> asleep_since;
  std::deque<WakeRecord> recent_wakes;  // newest last
  std::string last_error;               // the last failed wake's reason

  void RecordWake(const WakeRecord& w) {
    ++wakes;
    if (w.seconds > 0) {
      size_t i = 0;
      while (i < kBuckets.size() && w.seconds > kBuckets[i]) ++i;
      if (i < kBuckets.size()) ++wake_buckets[i];
      wake_seconds_sum += w.seconds;
    }
    recent_wakes.push_back(w);
    if (recent_wakes.size() > kRecentWakes) recent_wakes.pop_front();
  }
};

}  // namespace pgrt
