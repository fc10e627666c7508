// NodeState: what the node is doing now, written by the event loop, read by the API
// threads. Every field is a snapshot; readers never block the loop for long.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pgdata/topology.h"
#include "pgdata/volume.h"
#include "state/sample_history.h"
#include "state/sleep_state.h"
#include "state/tls_status.h"
#include "util/clock.h"
#include "util/progress.h"

namespace pgrt {

// What the node is doing, as the API names it (the controller's mode; "ready" is running).
enum class NodePhase {
  kInitializing,
  kCloning,
  kRestoring,
  kStarting,
  kReady,
  kRestarting,
  kHibernating,
  kHibernated,
  kWaking,
  kPromoting,
  kRepointing,
  kDemoting,
  kRewinding,
  kRecloning,
  kCannotRejoin,
  kStopping,
  kFailed
};
const char* ToString(NodePhase p);

// The role postgres reports (pg_is_in_recovery), as last observed by the monitor.
enum class PgRole { kUnknown, kPrimary, kReplica };
const char* ToString(PgRole r);

// What the monitor last saw of postgres, through a fresh connection (so "observed" also
// means "a client could connect"). Every view renders from it: the role checks,
// /__opr/status and /__opr/replication never query postgres themselves.
struct Observation {
  PgRole role = PgRole::kUnknown;  // kUnknown: postgres could not be reached or asked
  SystemTime at{};                 // when it was taken (wall clock)
  std::string version;             // server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)"
  double started_epoch = 0;        // pg_postmaster_start_time(), seconds since the epoch
  int connections = 0;             // client backends
  int max_connections = 0;
  int timeline = 0;
  std::optional<std::string> current_lsn;                                     // primary
  std::optional<std::string> receive_lsn, replay_lsn, last_replay_timestamp;  // replica
  double lag_seconds = 0;
  int64_t replay_lag_bytes = 0;  // received but not yet replayed (replica)
  bool paused = false;           // WAL replay paused (replica)
  bool streaming = false;        // the WAL receiver is streaming (replica)
  // As /__opr/replication shows them: standbys and slots (primary), the WAL receiver.
  nlohmann::json standbys = nlohmann::json::array();
  nlohmann::json slots = nlohmann::json::array();
  nlohmann::json wal_receiver = {{"status", "stopped"}};
  nlohmann::json archive = nullptr;  // pg_stat_archiver, as /__opr/status's backup.archive
  std::string error;                 // why the last observation failed, when it did
  // For the status page's rates (state/sample_history.h): transactions ended in every
  // database (xact_commit + xact_rollback) and the WAL position in bytes; -1 unknown.
  int64_t xacts = -1;
  double wal_bytes = -1;
};

class NodeState {
 public:
  void SetPhase(NodePhase p) { phase_.store(p); }
  NodePhase phase() const { return phase_.load(); }
  // postgres accepts connections and nothing stops it now (a promotion or a new upstream
  // keeps it running).
  bool ready() const {
    NodePhase p = phase();
    return p == NodePhase::kReady || p == NodePhase::kPromoting || p == NodePhase::kRepointing;
  }

  // The controller's topology: the role this node is meant to have and whom it follows.
  void SetTopology(const Topology& t) {
    std::lock_guard<std::mutex> lock(mu_);
    topology_ = t;
  }
  Topology topology() const {
    std::lock_guard<std::mutex> lock(mu_);
    return topology_;
  }

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
  SteadyTime last_beat() const { return SteadyTime(SteadyTime::duration(heartbeat_.load())); }

  // The controller's last moves, oldest first: "running → hibernating: ..." with times.
  struct Move {
    SystemTime at;
    std::string from, to, why;
  };
  void SetTransitions(std::vector<Move> moves) {
    std::lock_guard<std::mutex> lock(mu_);
    moves_ = std::move(moves);
  }
  std::vector<Move> transitions() const {
    std::lock_guard<std::mutex> lock(mu_);
    return moves_;
  }
  // Every move since pgrt started, counted by (from, to), for /metrics.
  void CountMove(const std::string& from, const std::string& to) {
    std::lock_guard<std::mutex> lock(mu_);
    ++move_counts_[{from, to}];
  }
  std::map<std::pair<std::string, std::string>, uint64_t> move_counts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return move_counts_;
  }

  // Between a promotion and the checkpoint after it (pg_rewind from this node must wait).
  void SetCheckpointPending(bool p) { checkpoint_pending_.store(p); }
  bool checkpoint_pending() const { return checkpoint_pending_.load(); }
  // With PGRT_HA: whether this node holds the leader key (a primary is one only then).
  void SetLeaseHeld(bool held) { lease_held_.store(held ? 1 : 0); }
  std::optional<bool> lease_held() const {
    int v = lease_held_.load();
    return v < 0 ? std::nullopt : std::optional<bool>(v == 1);
  }
  // The HA cluster as this node sees it (GET /cluster); null without PGRT_HA.
  void SetCluster(nlohmann::json view) {
    std::lock_guard<std::mutex> lock(mu_);
    cluster_ = std::move(view);
  }
  nlohmann::json cluster() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cluster_;
  }

  // PGRT_IDLE_TIMEOUT: the door and the wakes; nullopt when the node never sleeps.
  void SetSleep(std::optional<SleepState> s) {
    std::lock_guard<std::mutex> lock(mu_);
    sleep_ = std::move(s);
  }
  std::optional<SleepState> sleep() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sleep_;
  }

  void SetMessage(const std::string& m) {
    std::lock_guard<std::mutex> lock(mu_);
    message_ = m;
  }
  // What status shows: a disk fault first (it explains everything else), then the message.
  std::string message() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (disk_fault_.empty()) return message_;
    return message_.empty() ? disk_fault_ : disk_fault_ + "; " + message_;
  }

  // A full or read-only volume ("disk full: ..."); empty when there is none.
  void SetDiskFault(const std::string& fault) {
    std::lock_guard<std::mutex> lock(mu_);
    disk_fault_ = fault;
  }
  std::string disk_fault() const {
    std::lock_guard<std::mutex> lock(mu_);
    return disk_fault_;
  }
  // The node's last look at its volumes (statvfs), for /metrics.
  void SetVolumes(std::vector<VolumeUsage> v) {
    std::lock_guard<std::mutex> lock(mu_);
    volumes_ = std::move(v);
  }
  std::vector<VolumeUsage> volumes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return volumes_;
  }

  // The certificates pgrt serves, by what serves them ("postgres", "api"); empty without TLS.
  void SetTls(const std::string& which, const TlsCertStatus& s) {
    std::lock_guard<std::mutex> lock(mu_);
    tls_[which] = s;
  }
  std::map<std::string, TlsCertStatus> tls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tls_;
  }

  // Long start-up work now (a clone, a restore), as its tool last reported it.
  struct Progress {
    std::string operation;  // "clone", "restore"
    ProgressReading reading;
    SystemTime started{}, updated{};
  };
  void SetProgress(std::optional<Progress> p) {
    std::lock_guard<std::mutex> lock(mu_);
    progress_ = std::move(p);
  }
  std::optional<Progress> progress() const {
    std::lock_guard<std::mutex> lock(mu_);
    return progress_;
  }

  // The last hour of the node's figures, fed by the monitor (the status page's charts).
  SampleHistory& history() { return history_; }
  const SampleHistory& history() const { return history_; }

  // 503 bodies of the health check. Their first words stay what clients match on
  // ("PostgreSQL is starting", "Database unavailable"); a disk fault says why after them.
  std::string NotReadyText() const;
  std::string UnavailableText() const;

 private:
  std::atomic<NodePhase> phase_{NodePhase::kStarting};
  std::atomic<pid_t> postgres_pid_{0};
  std::atomic<int> restarts_{0};
  std::atomic<bool> checkpoint_pending_{false};
  std::atomic<int> lease_held_{-1};  // -1: no PGRT_HA
  nlohmann::json cluster_;
  std::atomic<SteadyTime::rep> heartbeat_{0};
  mutable std::mutex mu_;
  std::string message_;
  std::string disk_fault_;
  std::vector<VolumeUsage> volumes_;
  std::map<std::string, TlsCertStatus> tls_;
  Observation observation_;
  std::optional<SleepState> sleep_;
  Topology topology_;
  std::vector<Move> moves_;
  std::map<std::pair<std::string, std::string>, uint64_t> move_counts_;
  SampleHistory history_;
  std::optional<Progress> progress_;
};

}  // namespace pgrt
