#include "state/sample_history.h"

#include <algorithm>

#include "state/node_state.h"

namespace pgrt {

SampleHistory::Reading SampleHistory::ReadingOf(const Observation& o) {
  Reading r;
  r.at = o.at;
  r.xacts = o.xacts;
  r.wal_bytes = o.wal_bytes;
  r.connections = o.connections;
  if (o.role == PgRole::kReplica) {
    r.lag_bytes = o.replay_lag_bytes;
    r.lag_seconds = o.lag_seconds;
    return r;
  }
  // A primary: its slowest standby.
  for (const nlohmann::json& s : o.standbys) {
    if (s.value("lagBytes", nlohmann::json()).is_number())
      r.lag_bytes = std::max<int64_t>(r.lag_bytes, s["lagBytes"].get<int64_t>());
    if (s.value("replayLagSeconds", nlohmann::json()).is_number())
      r.lag_seconds = std::max(r.lag_seconds, s["replayLagSeconds"].get<double>());
  }
  return r;
}

void SampleHistory::Offer(const Reading& r, SteadyTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  max_lag_bytes_ = std::max(max_lag_bytes_, r.lag_bytes);
  max_lag_seconds_ = std::max(max_lag_seconds_, r.lag_seconds);
  if (base_ && now - base_at_ < kInterval) return;
  Sample s;
  s.at = r.at;
  s.connections = r.connections;
  s.lag_bytes = max_lag_bytes_;
  s.lag_seconds = static_cast<float>(max_lag_seconds_);
  if (base_ && now - base_at_ <= kMaxGap) {
    const double dt = std::chrono::duration<double>(now - base_at_).count();
    if (r.xacts >= 0 && base_->xacts >= 0 && r.xacts >= base_->xacts)
      s.tps = static_cast<double>(r.xacts - base_->xacts) / dt;
    if (r.wal_bytes >= 0 && base_->wal_bytes >= 0 && r.wal_bytes >= base_->wal_bytes)
      s.wal_bytes_per_second = (r.wal_bytes - base_->wal_bytes) / dt;
  }
  ring_[next_] = s;
  next_ = (next_ + 1) % kCapacity;
  count_ = std::min(count_ + 1, kCapacity);
  base_ = r;
  base_at_ = now;
  max_lag_bytes_ = 0;
  max_lag_seconds_ = 0;
}

std::vector<SampleHistory::Sample> SampleHistory::Samples() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Sample> out;
  out.reserve(count_);
  const size_t first = (next_ + kCapacity - count_) % kCapacity;
  for (size_t i = 0; i < count_; ++i) out.push_back(ring_[(first + i) % kCapacity]);
  return out;
}

}  // namespace pgrt
