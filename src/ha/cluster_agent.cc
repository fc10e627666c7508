#include "ha/cluster_agent.h"

#include <spdlog/spdlog.h>

#include "ha/alive_guard.h"
#include "util/fs.h"

namespace pgrt {
namespace {

constexpr Millis kBootRetry{1000};
constexpr Millis kHandoverLapse{60000};
constexpr Millis kSwitchoverWait{60000};

}  // namespace

std::string ClusterKey(const std::string& cluster, const std::string& what) {
  return "/pgrt/" + cluster + "/" + what;
}

ClusterAgent::ClusterAgent(EventLoop& loop, EtcdClient& etcd, HaOptions options, Self self,
                           OnChange on_change)
    : loop_(loop),
      etcd_(etcd),
      opt_(std::move(options)),
      self_(std::move(self)),
      on_change_(std::move(on_change)) {}

ClusterAgent::~ClusterAgent() {
  *alive_ = false;
  for (EventLoop::TimerId t : {publish_timer_, relist_timer_, boot_timer_})
    if (t != 0) loop_.CancelTimer(t);
}

std::string ClusterAgent::MemberKey(const std::string& name) const {
  return ClusterKey(opt_.cluster, "members/" + name);
}

void ClusterAgent::DecideBoot(bool has_data, std::function<void(BootDecision)> done,
                              std::function<void(const std::string&)> report) {
  TryBoot(has_data, std::move(done), std::move(report));
}

void ClusterAgent::TryBoot(bool has_data, std::function<void(BootDecision)> done,
                           std::function<void(const std::string&)> report) {
  auto again = [this, has_data, done, report](const std::string& waiting) {
    report(waiting);
    boot_timer_ = loop_.AddTimer(kBootRetry, [this, has_data, done, report] {
      boot_timer_ = 0;
      TryBoot(has_data, done, report);
    });
  };
  etcd_.Get(
      ClusterKey(opt_.cluster, "leader"),
      Guard(alive_, [this, has_data, done, report,
                     again](Result<std::optional<EtcdKeyValue>> leader) mutable {
        if (!leader.ok()) return again("waiting for etcd: " + leader.status().message());
        const std::string name = leader->has_value() ? (*leader)->value : "";
        if (!name.empty() && name != opt_.name) {
          // A leader exists: its record says where to clone from or whom to follow.
          return etcd_.Get(
              MemberKey(name), Guard(alive_, [this, has_data, done, name, again](
                                                 Result<std::optional<EtcdKeyValue>> rec) mutable {
                if (!rec.ok() || !rec->has_value())
                  return again("waiting for the record of the leader " + name);
                auto m = ParseMember((*rec)->value);
                if (!m.ok()) return again("the leader's record: " + m.status().message());
                if (!has_data && (m->role != "primary" || !m->ready))
                  return again("waiting for the leader " + name + " to accept connections");
                done({has_data ? BootKind::kJoin : BootKind::kClone, *m,
                      has_data ? "the data is kept; " + name + " leads"
                               : "PGDATA is empty and " + name + " leads: cloning it"});
              }));
        }
        if (has_data)
          return done({BootKind::kJoin, std::nullopt,
                       "the data is kept; no leader yet: the election decides"});
        // No data and no leader: the first node to create the initialize key makes the
        // cluster; the others wait for it to lead.
        etcd_.Create(
            ClusterKey(opt_.cluster, "initialize"), opt_.name, 0,
            Guard(alive_, [this, done, again](Result<bool> won) mutable {
              if (!won.ok()) return again("waiting for etcd: " + won.status().message());
              if (*won)
                return done({BootKind::kInitialize, std::nullopt,
                             "this node took the initialize key: it makes the cluster"});
              etcd_.Get(ClusterKey(opt_.cluster, "initialize"),
                        Guard(alive_, [this, done,
                                       again](Result<std::optional<EtcdKeyValue>> who) mutable {
                          const std::string by = who.ok() && who->has_value() ? (*who)->value : "";
                          if (by == opt_.name)  // made by this node before a restart lost it
                            return done({BootKind::kInitialize, std::nullopt,
                                         "this node holds the initialize key"});
                          again("waiting for " + (by.empty() ? "another node" : by) +
                                " to make the cluster and lead it");
                        }));
            }));
      }));
}

void ClusterAgent::Start() {
  ElectionOptions eo;
  eo.key = ClusterKey(opt_.cluster, "leader");
  eo.name = opt_.name;
  eo.ttl_seconds = opt_.ttl_seconds;
  // The fence: give up a second before the lease could end, a third of it for short TTLs.
  eo.margin = fence_margin();
  eo.on_renewed = opt_.on_renewed;
  eo.eligible = false;  // until postgres is ready and the members are known
  election_ = std::make_unique<LeaderElection>(loop_, etcd_, eo,
                                               [this](bool, const std::string&) { Changed(); });
  election_->Start();
  Relist();
  Publish();
}

void ClusterAgent::Changed() {
  if (leading() && !was_leading_) RecordLeadership();
  was_leading_ = leading();
  if (leading() && handover_ && handover_->to == opt_.name) {
    // Done: the key goes, so later elections are open to every node again.
    etcd_.DeleteIf(ClusterKey(opt_.cluster, "switchover"),
                   nlohmann::json{{"from", handover_->from}, {"to", handover_->to}}.dump(),
                   Guard(alive_, [](Result<bool>) {}));
  }
  if (const std::string l = leader(); !l.empty()) {
    if (auto it = members_.find(l); it != members_.end()) last_leader_ = it->second;
  }
  UpdateEligibility();
  if (on_change_) on_change_();
}

void ClusterAgent::RecordLeadership() {
  // Patroni's /history, in pgrt's words: who took over from whom, when and why. Kept in
  // etcd (the last 100 entries) by each new leader; read back through the cluster watch.
  const std::string why = handover_ && handover_->to == opt_.name
                              ? (handover_->from.empty() ? "manual failover" : "switchover")
                          : !last_leader_ || last_leader_->name == opt_.name ? "election"
                                                                             : "failover";
  nlohmann::json entry = {{"at", IsoTimestamp()},
                          {"leader", opt_.name},
                          {"previous", last_leader_ && last_leader_->name != opt_.name
                                           ? nlohmann::json(last_leader_->name)
                                           : nlohmann::json(nullptr)},
                          {"reason", why}};
  const std::string key = ClusterKey(opt_.cluster, "history");
  etcd_.Get(key, Guard(alive_, [this, key, entry](Result<std::optional<EtcdKeyValue>> r) {
              if (!r.ok()) return;
              nlohmann::json list = nlohmann::json::array();
              if (r->has_value()) {
                list = nlohmann::json::parse((*r)->value, nullptr, false);
                if (!list.is_array()) list = nlohmann::json::array();
              }
              list.push_back(entry);
              while (list.size() > 100) list.erase(list.begin());
              etcd_.Put(key, list.dump(), 0, Guard(alive_, [](Result<int64_t>) {}));
            }));
}

std::optional<Member> ClusterAgent::LeaderMember() const {
  auto it = members_.find(leader());
  if (it == members_.end()) return std::nullopt;
  return it->second;
}

void ClusterAgent::Refresh() {
  if (election_) Publish();
}

void ClusterAgent::Publish() {
  if (publish_timer_ != 0) loop_.CancelTimer(publish_timer_);
  publish_timer_ = loop_.AddTimer(opt_.publish_every, [this] {
    publish_timer_ = 0;
    Publish();
  });
  const int64_t lease = election_->lease();
  Member me = self_();
  members_[me.name] = me;
  UpdateEligibility();
  const std::string record = RenderMember(me);
  // Written only when it changed (a quiet cluster costs etcd nothing but keepalives), and
  // again under a new lease (the old one took the record with it).
  if (lease == 0 || publishing_ || (record == published_ && lease == published_lease_)) return;
  publishing_ = true;
  etcd_.Put(MemberKey(opt_.name), record, lease,
            Guard(alive_, [this, record, lease](Result<int64_t> r) {
              publishing_ = false;
              if (!r.ok()) return spdlog::warn("ha: member record: {}", r.status().message());
              published_ = record;
              published_lease_ = lease;
            }));
}

void ClusterAgent::Relist() {
  if (relist_timer_ != 0) loop_.CancelTimer(relist_timer_);
  relist_timer_ = loop_.AddTimer(opt_.relist_every, [this] {
    relist_timer_ = 0;
    Relist();
  });
  // One read of the whole cluster prefix: the watch delivers every change, this only
  // repairs what a broken watch may have missed.
  etcd_.GetPrefix(ClusterKey(opt_.cluster, ""),
                  Guard(alive_, [this](Result<std::vector<EtcdKeyValue>> r) {
                    if (!r.ok()) return;
                    const std::string members = ClusterKey(opt_.cluster, "members/");
                    std::map<std::string, Member> fresh;
                    std::optional<std::string> switchover;
                    std::optional<SyncState> sync;
                    nlohmann::json history = history_;
                    int64_t revision = 0;
                    for (const EtcdKeyValue& kv : *r) {
                      revision = std::max(revision, kv.mod_revision);
                      if (kv.key.rfind(members, 0) == 0) {
                        if (auto m = ParseMember(kv.value); m.ok()) fresh[m->name] = *m;
                      } else if (kv.key == ClusterKey(opt_.cluster, "history")) {
                        history = nlohmann::json::parse(kv.value, nullptr, false);
                      } else if (kv.key == ClusterKey(opt_.cluster, "sync")) {
                        sync = ParseSync(kv.value);
                      } else if (kv.key == ClusterKey(opt_.cluster, "switchover")) {
                        switchover = kv.value;
                      }
                    }
                    Member me = self_();
                    fresh[me.name] = me;
                    const bool changed = fresh != members_ || sync != sync_ || history != history_;
                    members_ = std::move(fresh);
                    sync_ = sync;
                    history_ = std::move(history);
                    // From just after the newest change read: nothing between the read and the
                    // watch is missed (a change replayed is one already seen).
                    if (!members_watch_) WatchCluster(revision > 0 ? revision + 1 : 0);
                    if (changed) Changed();
                    OnSwitchoverKey(switchover);
                  }));
}

void ClusterAgent::WatchCluster(int64_t from_revision) {
  // One watch for the whole cluster prefix: member records and the switchover key.
  members_watch_ = etcd_.Watch(ClusterKey(opt_.cluster, ""), true, from_revision,
                               Guard(alive_, [this](const EtcdEvent& e) { OnClusterEvent(e); }),
                               Guard(alive_, [this](const Status&) {
                                 // Re-listed and watched again; a missed event is repaired by the
                                 // listing.
                                 members_watch_.reset();
                                 loop_.AddTimer(Millis(500), Guard(alive_, [this] { Relist(); }));
                               }));
}

void ClusterAgent::OnClusterEvent(const EtcdEvent& e) {
  if (e.kv.key == ClusterKey(opt_.cluster, "history")) {
    history_ = nlohmann::json::parse(e.deleted ? "[]" : e.kv.value, nullptr, false);
    return Changed();
  }
  if (e.kv.key == ClusterKey(opt_.cluster, "sync")) {
    auto s = e.deleted ? std::nullopt : ParseSync(e.kv.value);
    if (s == sync_) return;
    sync_ = s;
    return Changed();
  }
  if (e.kv.key == ClusterKey(opt_.cluster, "switchover"))
    return OnSwitchoverKey(e.deleted ? std::nullopt : std::optional<std::string>(e.kv.value));
  const std::string prefix = ClusterKey(opt_.cluster, "members/");
  if (e.kv.key.rfind(prefix, 0) != 0) return;
  const std::string name = e.kv.key.substr(prefix.size());
  if (name == opt_.name) return;  // this node's own record is what self_ says
  if (e.deleted) {
    if (members_.erase(name) == 0) return;
  } else {
    auto m = ParseMember(e.kv.value);
    if (!m.ok() || m->name != name) return;
    auto it = members_.find(name);
    if (it != members_.end() && it->second == *m) return;
    members_[name] = *m;
  }
  Changed();
}

void ClusterAgent::OnSwitchoverKey(const std::optional<std::string>& value) {
  if (!value) {
    if (!handover_) return;
    handover_.reset();
    return Changed();
  }
  nlohmann::json j = nlohmann::json::parse(*value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  Handover h{j.value("from", std::string()), j.value("to", std::string()), loop_.clock().Now()};
  if (handover_ && handover_->from == h.from && handover_->to == h.to) return;
  handover_ = h;
  spdlog::info("ha: switchover requested from {} to {}", h.from.empty() ? "(no leader)" : h.from,
               h.to);
  if (leading() && h.to != opt_.name && on_handover_) on_handover_(h.to);
  Changed();
}

bool ClusterAgent::HandoverExcludes(const std::string& name) const {
  return handover_ && handover_->to != name &&
         loop_.clock().Now() - handover_->seen < kHandoverLapse;
}

void ClusterAgent::RequestSwitchover(const std::string& leader, const std::string& candidate,
                                     bool failover, Done done) {
  const std::string current = this->leader();
  if (current.empty() && !failover)
    return done(Status::FailedPrecondition("no leader: a switchover needs one (use failover)"));
  if (!leader.empty() && leader != current)
    return done(Status::FailedPrecondition(leader + " is not the leader (" +
                                           (current.empty() ? "there is none" : current) + ")"));
  std::string to = candidate;
  if (opt_.sync_mode && !failover) {
    const std::string standby = sync_ && sync_->leader == current ? sync_->standby : "";
    if (standby.empty())
      return done(Status::FailedPrecondition("no synchronous standby to take over yet"));
    if (!to.empty() && to != standby)
      return done(Status::FailedPrecondition("in sync mode only the synchronous standby " +
                                             standby + " may take over"));
    to = standby;
  }
  if (to.empty()) {
    if (failover) return done(Status::FailedPrecondition("a failover needs a candidate"));
    uint64_t best = 0;
    for (const auto& [name, m] : members_)
      if (name != current && m.ready && m.role == "replica" && (to.empty() || m.lsn > best)) {
        to = name;
        best = m.lsn;
      }
    if (to.empty()) return done(Status::FailedPrecondition("no ready replica to take over"));
  }
  auto it = members_.find(to);
  if (to == current) return done(Status::FailedPrecondition(to + " is already the leader"));
  if (it == members_.end()) return done(Status::FailedPrecondition(to + " is not a member"));
  if (!it->second.ready || it->second.role != "replica")
    return done(
        Status::FailedPrecondition(to + " is not a ready replica (" + it->second.state + ")"));
  const std::string record = nlohmann::json{{"from", current}, {"to", to}}.dump();
  etcd_.Put(ClusterKey(opt_.cluster, "switchover"), record, 0,
            Guard(alive_, [this, to, done](Result<int64_t> r) {
              if (!r.ok()) return done(Status::Unavailable("etcd: " + r.status().message()));
              WaitForLeader(to, loop_.clock().Now() + kSwitchoverWait, done);
            }));
}

void ClusterAgent::WaitForLeader(const std::string& candidate, SteadyTime until, Done done) {
  // Done once the candidate leads and runs as a primary (its record says so).
  auto it = members_.find(candidate);
  if (leader() == candidate && it != members_.end() && it->second.role == "primary" &&
      it->second.ready)
    return done("switched over to " + candidate);
  if (loop_.clock().Now() >= until)
    return done(Status::Unavailable(candidate + " did not take over within a minute"));
  loop_.AddTimer(Millis(50), Guard(alive_, [this, candidate, until, done] {
                   WaitForLeader(candidate, until, done);
                 }));
}

void ClusterAgent::UpdateEligibility() {
  if (!election_ || election_->leading()) return;
  const Member me = members_.count(opt_.name) ? members_.at(opt_.name) : self_();
  bool eligible = me.ready && me.role != "unknown" && !HandoverExcludes(me.name);
  const bool chosen = handover_ && handover_->to == me.name;
  // In sync mode only the synchronous standby the last leader named holds every commit it
  // acknowledged (a manual failover's candidate is the operator's choice).
  if (opt_.sync_mode && me.role == "replica" && !chosen)
    eligible = eligible && sync_ && sync_->standby == me.name;
  if (eligible && me.role == "replica" && !chosen) {
    // A member further ahead goes first where it may lead. In sync mode no other replica
    // may: what an asynchronous one received beyond the synchronous standby was never
    // acknowledged, and waiting for it would leave the cluster without a leader.
    for (const auto& [name, m] : members_)
      if (name != me.name && m.ready && m.lsn > me.lsn && !opt_.sync_mode) eligible = false;
    if (last_leader_ && last_leader_->name != me.name && last_leader_->lsn > me.lsn &&
        last_leader_->lsn - me.lsn > opt_.maximum_lag)
      eligible = false;
  }
  election_->SetEligible(eligible);
}

void ClusterAgent::Resign(std::function<void()> done) {
  if (!election_) {
    if (done) done();
    return;
  }
  election_->Resign(std::move(done));
}

nlohmann::json ClusterAgent::View() const {
  nlohmann::json members = nlohmann::json::array();
  const std::string l = leader();
  for (const auto& [name, m] : members_) {
    const bool is_leader = name == l;
    uint64_t leader_lsn = 0;
    if (auto lm = LeaderMember()) leader_lsn = lm->lsn;
    nlohmann::json j = {{"name", m.name},         {"role", is_leader ? "leader" : m.role},
                        {"state", m.state},       {"host", m.host},
                        {"port", m.port},         {"api_url", m.api_url},
                        {"timeline", m.timeline}, {"lsn", FormatLsn(m.lsn)}};
    if (!is_leader && leader_lsn > 0) j["lag"] = leader_lsn > m.lsn ? leader_lsn - m.lsn : 0;
    members.push_back(std::move(j));
  }
  nlohmann::json view = {{"scope", opt_.cluster},
                         {"leader", l.empty() ? nlohmann::json(nullptr) : nlohmann::json(l)},
                         {"members", members}};
  if (opt_.sync_mode)
    view["sync_standby"] = sync_ && sync_->leader == l && !sync_->standby.empty()
                               ? nlohmann::json(sync_->standby)
                               : nlohmann::json(nullptr);
  view["history"] = history_.is_array() ? history_ : nlohmann::json::array();
  return view;
}

}  // namespace pgrt
