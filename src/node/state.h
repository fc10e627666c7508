// NodeState: what the node is doing now, written by the event loop, read by the API
// threads. Every field is a snapshot; readers never block the loop for long.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "util/clock.h"

namespace pgrt {

enum class NodePhase { kStarting, kReady, kRestarting, kStopping, kFailed };
const char* ToString(NodePhase p);

// The role postgres reports (pg_is_in_recovery), as last observed by the monitor.
enum class PgRole { kUnknown, kPrimary, kReplica };
const char* ToString(PgRole r);

// What the monitor last saw; read by the role checks without touching postgres.
struct Observation {
  PgRole role = PgRole::kUnknown;
  int64_t replay_lag_bytes = 0;  // received but not yet replayed (replica)
  bool streaming = false;        // the WAL receiver is streaming (replica)
};

class NodeState {
 public:
  void SetPhase(NodePhase p) { phase_.store(p); }
  NodePhase phase() const { return phase_.load(); }
  bool ready() const { return phase() == NodePhase::kReady; }

  void SetPostgresPid(pid_t pid) { postgres_pid_.store(pid); }
  pid_t postgres_pid() const { return postgres_pid_.load(); }

  void SetObservation(const Observation& o) {
    std::lock_guard<std::mutex> lock(mu_);
    observation_ = o;
  }
  Observation observation() const {
    std::lock_guard<std::mutex> lock(mu_);
    return observation_;
  }

  void CountRestart() { restarts_.fetch_add(1); }
  int restarts() const { return restarts_.load(); }

  // The loop's heartbeat, for /liveness.
  void Beat(SteadyTime now) { heartbeat_.store(now.time_since_epoch().count()); }
  SteadyTime last_beat() const {
    return SteadyTime(SteadyTime::duration(heartbeat_.load()));
  }

  void SetMessage(const std::string& m) {
    std::lock_guard<std::mutex> lock(mu_);
    message_ = m;
  }
  std::string message() const {
    std::lock_guard<std::mutex> lock(mu_);
    return message_;
  }

 private:
  std::atomic<NodePhase> phase_{NodePhase::kStarting};
  std::atomic<pid_t> postgres_pid_{0};
  std::atomic<int> restarts_{0};
  std::atomic<SteadyTime::rep> heartbeat_{0};
  mutable std::mutex mu_;
  std::string message_;
  Observation observation_;
};

}  // namespace pgrt
