#include "ha/election.h"

#include <spdlog/spdlog.h>

#include "ha/alive_guard.h"

namespace pgrt {

LeaderElection::LeaderElection(EventLoop& loop, EtcdClient& etcd, ElectionOptions options,
                               OnChange on_change)
    : loop_(loop),
      etcd_(etcd),
      opt_(std::move(options)),
      on_change_(std::move(on_change)),
      eligible_(opt_.eligible) {}

LeaderElection::~LeaderElection() {
  *alive_ = false;
  for (EventLoop::TimerId t : {renew_timer_, fence_timer_, retry_timer_})
    if (t != 0) loop_.CancelTimer(t);
}

void LeaderElection::Start() { GrantLease(); }

Millis LeaderElection::RenewEvery() const {
  // The leader's lease is what keeps a second primary out: renewed every third of it, so
  // two renewals may fail before the fence. A follower's lease only keeps its member record
  // (and is renewed again the moment it wins an election): every half, a third fewer
  // requests from every replica of a quiet cluster.
  return Millis(opt_.ttl_seconds * 1000 / (leading_ ? 3 : 2));
}

void LeaderElection::Later(Millis delay, std::function<void()> what) {
  if (retry_timer_ != 0) loop_.CancelTimer(retry_timer_);
  retry_timer_ = loop_.AddTimer(delay, [this, what = std::move(what)] {
    retry_timer_ = 0;
    what();
  });
}

void LeaderElection::GrantLease() {
  const SteadyTime sent = Now();
  etcd_.GrantLease(opt_.ttl_seconds, Guard(alive_, [this, sent](Result<int64_t> r) {
                     if (!r.ok()) {
                       spdlog::warn("ha: {} (retrying)", r.status().message());
                       // The lease's own timer, not Later(): a retry of another step must not
                       // replace this one, or the node would stay without a lease for good.
                       if (renew_timer_ != 0) loop_.CancelTimer(renew_timer_);
                       renew_timer_ = loop_.AddTimer(opt_.retry, [this] {
                         renew_timer_ = 0;
                         GrantLease();
                       });
                       return;
                     }
                     lease_ = *r;
                     renewed_at_ = sent;
                     if (renew_timer_ != 0) loop_.CancelTimer(renew_timer_);
                     renew_timer_ = loop_.AddTimer(RenewEvery(), [this] { Renew(); });
                     Campaign();
                   }));
}

void LeaderElection::Renew() {
  renew_timer_ = 0;
  if (lease_ == 0) return;  // a new one is being granted
  const SteadyTime sent = Now();
  const int64_t lease = lease_;
  etcd_.KeepAlive(lease, Guard(alive_, [this, sent, lease](Result<int64_t> r) {
                    if (lease != lease_) return;
                    if (!r.ok()) {
                      // The fence decides when a leader must stop; until then, keep trying.
                      renew_timer_ = loop_.AddTimer(opt_.retry, [this] { Renew(); });
                      return;
                    }
                    if (*r == 0) {  // etcd let it expire: every key bound to it is gone
                      lease_ = 0;
                      if (leading_) StopLeading("the lease expired");
                      return GrantLease();
                    }
                    renewed_at_ = sent;
                    if (leading_) {
                      valid_until_ = sent + std::chrono::seconds(opt_.ttl_seconds) - opt_.margin;
                      ArmFence();
                      if (opt_.on_renewed) opt_.on_renewed();
                    }
                    renew_timer_ = loop_.AddTimer(RenewEvery(), [this] { Renew(); });
                  }));
}

void LeaderElection::RenewNow() {
  // None pending: a renewal is on its way already; no lease: its timer grants a new one.
  if (renew_timer_ == 0 || lease_ == 0) return;
  loop_.CancelTimer(renew_timer_);
  Renew();
}

void LeaderElection::Campaign() {
  if (!eligible_ || leading_ || campaigning_ || lease_ == 0) return Follow();
  campaigning_ = true;
  const int64_t lease = lease_;
  etcd_.Create(opt_.key, opt_.name, lease, Guard(alive_, [this, lease](Result<bool> r) {
                 campaigning_ = false;
                 if (!r.ok()) {
                   spdlog::warn("ha: campaign: {} (retrying)", r.status().message());
                   return Later(opt_.retry, [this] { Campaign(); });
                 }
                 if (*r && lease == lease_) return Lead();
                 Follow();
               }));
}

SteadyTime LeaderElection::LeaseValidUntil() const {
  // The lease lasts at least TTL from the last renewal etcd confirmed, counted from when it
  // was sent; leadership ends `margin` before that unless a newer renewal is confirmed.
  return renewed_at_ + std::chrono::seconds(opt_.ttl_seconds) - opt_.margin;
}

void LeaderElection::Lead() {
  // A read that saw the key ours and the campaign's own answer may both get here.
  if (leading_) return;
  valid_until_ = LeaseValidUntil();
  if (Now() >= valid_until_) {
    // The key is ours but the lease is too close to its end to count on; Follow() resumes once
    // a renewal is confirmed (or the lease ends, and the key with it).
    spdlog::info("ha: {} holds the leader key but cannot lead yet: no recent renewal", opt_.name);
    RenewNow();  // rather than at a follower's pace
    return Later(opt_.retry, [this] { Follow(); });
  }
  leading_ = true;
  ++turn_;
  spdlog::info("ha: {} leads (lease {})", opt_.name, lease_);
  ArmFence();
  // The lease was renewed at a follower's pace: renew it now, so the fence counts from a
  // fresh renewal, and from here at the leader's.
  RenewNow();
  leader_ = opt_.name;
  if (on_change_) on_change_(true, leader_);
  // Someone deleting the key (a manual failover) ends the leadership: Follow() checks that the
  // key is still ours and watches it from there.
  Follow();
}

void LeaderElection::ArmFence() {
  if (fence_timer_ != 0) loop_.CancelTimer(fence_timer_);
  const auto left = std::chrono::duration_cast<Millis>(valid_until_ - Now());
  fence_timer_ = loop_.AddTimer(std::max(left, Millis(0)), [this] {
    fence_timer_ = 0;
    if (!leading_) return;
    if (Now() >= valid_until_) return StopLeading("the lease could not be renewed in time");
    ArmFence();
  });
}

void LeaderElection::StopLeading(const std::string& why) {
  if (!leading_) return;
  leading_ = false;
  ++turn_;
  if (fence_timer_ != 0) loop_.CancelTimer(fence_timer_);
  fence_timer_ = 0;
  spdlog::warn("ha: {} stops leading: {}", opt_.name, why);
  leader_.clear();
  if (on_change_) on_change_(false, leader_);
  Later(opt_.retry, [this] { Follow(); });
}

bool LeaderElection::Ours(const EtcdKeyValue& kv) const {
  // Our name alone is not enough: an earlier life of this node may have left its key behind,
  // bound to a lease that is not ours and will expire.
  return lease_ != 0 && kv.lease == lease_ && kv.value == opt_.name;
}

void LeaderElection::Follow() {
  // Each etcd call has a connection of its own, so a read sent before this node's campaign
  // may be answered after it: a read (or watch) from before the last change of leadership
  // says nothing about the key now, and the change started a read of its own.
  const uint64_t turn = turn_;
  etcd_.Read(opt_.key, Guard(alive_, [this, turn](Result<EtcdRead> r) {
               if (turn != turn_) return;
               if (!r.ok()) return Later(opt_.retry, [this] { Follow(); });
               const std::optional<EtcdKeyValue>& kv = r->kv;
               if (leading_) {
                 if (!kv || !Ours(*kv)) return StopLeading("the leader key was taken away");
               } else if (!kv) {
                 SetLeader("");
                 if (eligible_ && lease_ != 0 && !campaigning_) return Campaign();
               } else if (Ours(*kv)) {
                 // Still ours while not leading: a campaign whose answer was lost, or a fence
                 // that fell while etcd was away and kept the lease (etcd extends every lease
                 // when it elects a leader). The lease keeps the key alive, so no one else can
                 // take it: lead again, or let it go when this node must not lead.
                 if (eligible_) return Lead();
                 return etcd_.DeleteIf(opt_.key, opt_.name, Guard(alive_, [this](Result<bool>) {
                                         Later(opt_.retry, [this] { Follow(); });
                                       }));
               } else if (kv->value == opt_.name) {
                 // This node's own key from before a restart, on a lease that is not this
                 // one: it leads no more, and the key goes now instead of at its expiry.
                 return etcd_.DeleteIf(opt_.key, opt_.name, Guard(alive_, [this](Result<bool>) {
                                         Later(opt_.retry / 5, [this] { Follow(); });
                                       }));
               } else {
                 SetLeader(kv->value);
               }
               // From just after the read: nothing between the read and the watch is missed,
               // and a revision etcd has compacted away is never asked for.
               WatchLeaderKey(r->revision + 1);
             }));
}

void LeaderElection::WatchLeaderKey(int64_t from_revision) {
  const uint64_t turn = turn_;
  watch_ = etcd_.Watch(opt_.key, false, from_revision,
                       Guard(alive_,
                             [this, turn](const EtcdEvent& e) {
                               if (turn != turn_) return;
                               if (leading_ && (e.deleted || !Ours(e.kv)))
                                 return StopLeading("the leader key was taken away");
                               if (leading_) return;
                               // This node's own campaign: the Create's answer decides.
                               if (!e.deleted && e.kv.value == opt_.name) return;
                               if (e.deleted) {
                                 SetLeader("");
                                 return Campaign();
                               }
                               SetLeader(e.kv.value);
                             }),
                       Guard(alive_, [this](const Status& st) {
                         // Read again before watching again: the key may have changed while
                         // no watch was looking (a leader learns here that it was replaced).
                         spdlog::debug("ha: leader watch ended: {}", st.message());
                         Later(opt_.retry, [this] { Follow(); });
                       }));
}

void LeaderElection::SetLeader(const std::string& leader) {
  if (leader == leader_) return;
  leader_ = leader;
  if (on_change_) on_change_(false, leader_);
}

void LeaderElection::SetEligible(bool eligible) {
  eligible_ = eligible;
  if (!eligible && leading_) return Resign(nullptr);
  if (eligible && !leading_ && leader_.empty()) Campaign();
}

void LeaderElection::Resign(std::function<void()> done) {
  eligible_ = false;
  const bool was_leading = leading_;
  StopLeading("resigned");
  if (!was_leading) {
    if (done) done();
    return;
  }
  // Only while the key is still ours; then the lease, so nothing of this node lingers.
  etcd_.DeleteIf(opt_.key, opt_.name,
                 Guard(alive_, [this, done = std::move(done)](Result<bool>) mutable {
                   const int64_t lease = lease_;
                   lease_ = 0;
                   etcd_.Revoke(lease, Guard(alive_, [this, done = std::move(done)](Result<bool>) {
                                  GrantLease();  // ready to campaign again when eligible
                                  if (done) done();
                                }));
                 }));
}

}  // namespace pgrt
