// SampleHistory: the last hour of a few of the node's figures, for the status page's charts
// (GET /__opr/history/samples). The monitor offers every observation (once a second); the
// ring keeps one sample per kInterval, so its memory is fixed when it is built:
// kCapacity samples of sizeof(Sample) bytes (360 × 40 B = 14.4 kB), never more.
// Rates come from the counters' deltas between two kept samples; a counter that went back
// (statistics reset, crash recovery) gives no rate for that interval rather than a negative
// one, and so does a gap of more than kMaxGap without observations (postgres was down).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "util/clock.h"

namespace pgrt {

struct Observation;

class SampleHistory {
 public:
  static constexpr std::chrono::seconds kInterval{10};
  static constexpr size_t kCapacity = 360;  // one hour at kInterval
  static constexpr std::chrono::seconds kMaxGap{30};

  // What one observation says, reduced to the ring's figures.
  struct Reading {
    SystemTime at{};
    int64_t xacts = -1;     // xact_commit + xact_rollback of every database; -1 unknown
    double wal_bytes = -1;  // the WAL position (written on a primary, replayed on a replica)
    int connections = 0;
    int64_t lag_bytes = 0;  // a replica's own lag, or a primary's largest standby lag
    double lag_seconds = 0;
  };
  // One kept sample. Rates are negative when unknown (the first sample, a counter reset).
  struct Sample {
    SystemTime at{};
    double tps = -1;
    double wal_bytes_per_second = -1;
    int64_t lag_bytes = 0;  // the largest seen during the interval
    float lag_seconds = 0;  // likewise
    int32_t connections = 0;
  };
  static_assert(sizeof(Sample) == 40, "docs/status-page.md states the ring's size");

  static Reading ReadingOf(const Observation& o);

  // Offers a reading taken at `now`. A sample is kept when kInterval passed since the last
  // one; lag figures in between are remembered as the interval's largest.
  void Offer(const Reading& r, SteadyTime now);

  // The kept samples, oldest first (at most kCapacity).
  std::vector<Sample> Samples() const;

 private:
  mutable std::mutex mu_;
  std::array<Sample, kCapacity> ring_{};
  size_t next_ = 0;   // where the next sample goes
  size_t count_ = 0;  // samples held, ≤ kCapacity
  // The reading the last kept sample was taken from, for the next deltas.
  std::optional<Reading> base_;
  SteadyTime base_at_{};
  int64_t max_lag_bytes_ = 0;  // since base_
  double max_lag_seconds_ = 0;
};

}  // namespace pgrt
