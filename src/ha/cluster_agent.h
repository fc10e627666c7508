// ClusterAgent: this node's part in an HA cluster on etcd (PGRT_HA=etcd). It decides how a
// node boots (initialize a new cluster, clone the leader, or join with the data it has), runs
// the leader election (ha/election.h), publishes this node's member record (ha/member.h) and
// keeps every member's, so the runtime can steer the node: lead, follow the leader, or fence.
//
// Keys, under /pgrt/<cluster>/: `leader` (the leader's name, bound to its lease), `initialize`
// (the name of the node that made the cluster; taken once, by compare-and-swap, never bound
// to a lease), `members/<name>` (JSON, bound to the node's lease).
//
// Who may campaign when the leader key is free: a node whose postgres is ready, that is not
// further behind the last known leader than the lag limit, and that has received at least as
// much WAL as every other ready member. Ties are broken by the key's compare-and-swap.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ha/election.h"
#include "ha/etcd_client.h"
#include "ha/member.h"
#include "ha/sync_standby.h"
#include "process/event_loop.h"

namespace pgrt {

struct HaOptions {
  std::string cluster;  // PGRT_CLUSTER_NAME
  std::string name;     // this node (PGRT_NODE_NAME)
  int ttl_seconds = 10;
  uint64_t maximum_lag = 1048576;    // bytes behind the last known leader
  Millis publish_every{1000};        // how often the member record is compared and rewritten
  Millis relist_every{30000};        // how often the cluster's keys are read again (repair)
  std::function<void()> on_renewed;  // see ElectionOptions::on_renewed
  bool sync_mode = false;            // PGRT_SYNC_MODE on|strict: only the sync standby campaigns
};

// /pgrt/<cluster>/<what>
std::string ClusterKey(const std::string& cluster, const std::string& what);

enum class BootKind {
  kInitialize,  // this node won the initialize key: initdb (or restore) as the first leader
  kClone,       // no data here: clone the leader
  kJoin,        // data here: start it as a standby and let the election decide
};
struct BootDecision {
  BootKind kind;
  std::optional<Member> leader;  // kClone, and kJoin when a leader is known
  std::string why;
};

class ClusterAgent {
 public:
  using Self = std::function<Member()>;  // this node as it is now
  using OnChange = std::function<void()>;

  // `on_change` runs on the loop when the leader, this node's leadership or a member record
  // changed.
  ClusterAgent(EventLoop& loop, EtcdClient& etcd, HaOptions options, Self self, OnChange on_change);
  ~ClusterAgent();
  ClusterAgent(const ClusterAgent&) = delete;
  ClusterAgent& operator=(const ClusterAgent&) = delete;

  // Before PGDATA is prepared: asks etcd until it can answer (the leader, the initialize key)
  // and calls `done` once, on the loop. `report` says what it is waiting for.
  void DecideBoot(bool has_data, std::function<void(BootDecision)> done,
                  std::function<void(const std::string&)> report);
  // The election, the member record and the members' watch.
  void Start();
  // Publishes this node's record now if it changed (a role change, readiness).
  void Refresh();
  // A clean stop or a handover: the leader key (while ours) and the lease go now.
  void Resign(std::function<void()> done);

  // A planned switchover (`failover`: a manual failover, which needs no healthy leader):
  // checked against this node's view of the cluster, then written to the `switchover` key
  // for the leader to act on; `done` gets a message once `candidate` (the most advanced ready
  // replica when empty) leads, or an error (kFailedPrecondition, kUnavailable).
  using Done = std::function<void(Result<std::string>)>;
  void RequestSwitchover(const std::string& leader, const std::string& candidate, bool failover,
                         Done done);
  // Runs on the leader when a switchover names it: stop taking writes, then Resign().
  void OnHandover(std::function<void(const std::string& candidate)> cb) {
    on_handover_ = std::move(cb);
  }

  bool leading() const { return election_ && election_->leading(); }
  std::string leader() const { return election_ ? election_->leader() : std::string(); }
  std::optional<Member> LeaderMember() const;
  // While leading: when the leadership ends unless renewed (ha/election.h's fence), and how
  // long after that the lease itself could end at the earliest.
  std::optional<SteadyTime> lease_valid_until() const {
    return election_ ? election_->valid_until() : std::nullopt;
  }
  Millis fence_margin() const { return Millis(std::min(1000, opt_.ttl_seconds * 1000 / 3)); }
  const std::map<std::string, Member>& members() const { return members_; }
  // The `sync` key as etcd last said (PGRT_SYNC_MODE).
  const std::optional<SyncState>& sync_state() const { return sync_; }
  // GET /cluster's body: the members, the leader, the sync standby; and `history` (GET
  // /history's body: who led after whom, when and why).
  nlohmann::json View() const;

 private:
  void TryBoot(bool has_data, std::function<void(BootDecision)> done,
               std::function<void(const std::string&)> report);
  void Publish();
  void Relist();
  void WatchCluster(int64_t from_revision);
  void OnClusterEvent(const EtcdEvent& e);
  void OnSwitchoverKey(const std::optional<std::string>& value);
  void WaitForLeader(const std::string& candidate, SteadyTime until, Done done);
  // A switchover in progress that names another node: this one does not campaign.
  bool HandoverExcludes(const std::string& name) const;
  void UpdateEligibility();
  void RecordLeadership();
  void Changed();
  std::string MemberKey(const std::string& name) const;

  EventLoop& loop_;
  EtcdClient& etcd_;
  HaOptions opt_;
  Self self_;
  OnChange on_change_;
  std::unique_ptr<LeaderElection> election_;
  std::map<std::string, Member> members_;  // by name, this node's own included
  std::optional<Member> last_leader_;      // the leader's record, kept after it vanished
  std::string published_;                  // the record last written ...
  int64_t published_lease_ = 0;            // ... bound to this lease
  bool publishing_ = false;
  std::unique_ptr<EtcdWatch> members_watch_;
  struct Handover {
    std::string from, to;
    SteadyTime seen;  // when this node learnt of it (it lapses after a minute)
  };
  std::optional<Handover> handover_;
  std::optional<SyncState> sync_;
  nlohmann::json history_ = nlohmann::json::array();
  bool was_leading_ = false;
  std::function<void(const std::string&)> on_handover_;
  EventLoop::TimerId publish_timer_ = 0;
  EventLoop::TimerId relist_timer_ = 0;
  EventLoop::TimerId boot_timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pgrt
