// LeaderElection: one node's part in electing its cluster's leader on etcd.
//
// The leader key holds the leader's name and is bound to that node's lease; taking it is a
// compare-and-swap (created only while absent), so at most one node holds it. Every node keeps
// a lease alive (a keepalive every ttl/3 from the loop), so a campaign is one transaction; a node
// that does not lead watches the key and campaigns the moment it is deleted or expires.
//
// Fencing: etcd ends a lease no earlier than TTL after it received the last keepalive, which is
// after pgrt sent it. So a leader counts its leadership as valid until (send time of the last
// renewal etcd confirmed) + TTL − margin, on the monotonic clock, and gives it up on its own
// when that passes without a newer confirmation: it has stopped leading before any other node
// can take the key. The node demotes on that signal.
//
// Every read of the key is followed by a watch from just after it, and every watch that ends
// (its etcd member died, or the client moved to another member) by a new read: a change made
// while no watch was looking is still seen. A key that holds this node's name on this node's
// lease is this node's leadership: it leads again (when eligible and its lease is confirmed)
// rather than waiting for a key that its own renewals keep alive, e.g. after etcd was lost
// entirely and came back with its leases extended.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ha/etcd_client.h"
#include "process/event_loop.h"

namespace pgrt {

struct ElectionOptions {
  std::string key;       // e.g. /pgrt/<cluster>/leader
  std::string name;      // this node's name, the key's value while it leads
  int ttl_seconds = 10;  // the lease's TTL
  Millis margin{1000};   // how long before the lease could expire the leader gives up
  Millis retry{500};     // the pause before trying again after an etcd error
  bool eligible = true;  // whether it may campaign from the start (see SetEligible)
  // Runs after each renewal etcd confirmed while leading (valid_until() moved on).
  std::function<void()> on_renewed;
};

class LeaderElection {
 public:
  // `on_change(leading, leader)` runs on the loop whenever this node starts or stops leading,
  // or the leader it knows of changes ("" when none).
  using OnChange = std::function<void(bool leading, const std::string& leader)>;

  LeaderElection(EventLoop& loop, EtcdClient& etcd, ElectionOptions options, OnChange on_change);
  ~LeaderElection();  // stops renewing; the key is left to expire (a crash looks the same)
  LeaderElection(const LeaderElection&) = delete;
  LeaderElection& operator=(const LeaderElection&) = delete;

  void Start();
  // A node that must not lead (too far behind, hibernated) keeps following but does not
  // campaign; true again campaigns when no one leads.
  void SetEligible(bool eligible);
  // A planned handover or a clean shutdown: the key is deleted (only while it is ours) and
  // the lease revoked, so another node takes over at once instead of after the TTL.
  void Resign(std::function<void()> done);

  bool leading() const { return leading_; }
  // The node's lease (0 while none is granted): other keys of the node are bound to it too.
  int64_t lease() const { return lease_; }
  // While leading: when this node stops leading unless a renewal is confirmed before.
  std::optional<SteadyTime> valid_until() const {
    return leading_ ? std::optional<SteadyTime>(valid_until_) : std::nullopt;
  }
  const std::string& leader() const { return leader_; }

 private:
  void GrantLease();
  void Renew();
  void Campaign();
  // Reads the key and acts on it (campaign, learn the leader, check that the key is still ours,
  // lead again), then watches it.
  void Follow();
  void WatchLeaderKey(int64_t from_revision);
  bool Ours(const EtcdKeyValue& kv) const;
  SteadyTime LeaseValidUntil() const;
  void Lead();
  void StopLeading(const std::string& why);
  void SetLeader(const std::string& leader);
  void Later(Millis delay, std::function<void()> what);
  void ArmFence();
  SteadyTime Now() const { return loop_.clock().Now(); }

  EventLoop& loop_;
  EtcdClient& etcd_;
  ElectionOptions opt_;
  OnChange on_change_;
  int64_t lease_ = 0;
  bool eligible_ = true;
  bool leading_ = false;
  uint64_t turn_ = 0;  // changes when this node starts or stops leading
  bool campaigning_ = false;
  bool resigned_ = false;
  std::string leader_;
  Millis RenewEvery() const;
  // The next renewal now instead of when its timer says.
  void RenewNow();

  SteadyTime renewed_at_{};   // when the last renewal etcd confirmed was sent
  SteadyTime valid_until_{};  // leading: when this node stops leading unless renewed
  EventLoop::TimerId renew_timer_ = 0;
  EventLoop::TimerId fence_timer_ = 0;
  EventLoop::TimerId retry_timer_ = 0;
  std::unique_ptr<EtcdWatch> watch_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace pgrt
