// Node's role changes: promote, follow, re-point, and the checks a re-point makes (whether
// this node's data forked from the new primary's timeline).
#include <signal.h>
#include <spdlog/spdlog.h>

#include "node/node.h"
#include "node/node_limits.h"
#include "node/prepare.h"
#include "pg/async_conn.h"
#include "pgdata/control_file.h"
#include "pgdata/postgres_process.h"
#include "pgdata/role_file.h"
#include "process/off_loop.h"
#include "replication/clone.h"
#include "replication/conninfo.h"
#include "replication/standby_files.h"
#include "replication/timeline.h"

namespace pgrt {

using namespace node_limits;

void Node::Promote(std::string why, RoleDone done) {
  if (mode() != Mode::kRunning)
    return done(Status::Unavailable(std::string("PostgreSQL is ") + ToString(mode())));
  if (state_.observation().role != PgRole::kReplica || !applied_.replica())
    return done(Status::FailedPrecondition("not a replica: this node is already a primary"));
  controller_.SetTopology(Writable(ReplicationMode::kPrimary), std::move(why));
  WhenSettled([done = std::move(done)](Result<std::string> r) {
    if (!r.ok()) return done(r.status());
    done(std::string("Replica promoted to primary"));
  });
}

void Node::Follow(Upstream up, std::string why, RoleDone done) {
  if (mode() != Mode::kRunning)
    return done(Status::Unavailable(std::string("PostgreSQL is ") + ToString(mode())));
  if (ctx_.config.replication_password.empty())
    return done(Status::FailedPrecondition(
        "this node has no replication credentials (POSTGRES_REPLICATION_PASSWORD)"));
  const Topology want = ReplicaOf(std::move(up));
  if (applied_ == want) return done("already following " + want.upstream.host);
  // Asked before anything changes: a typo in the host must not take a primary down. The new
  // upstream must answer the replication login, belong to this cluster, and (for a rewind,
  // whose source must be writable) be a primary.
  const std::string where = want.upstream.host + ":" + std::to_string(want.upstream.port);
  QueryOnce(
      *loop_, PrimaryConn(ctx_.config, want.upstream),
      "SELECT system_identifier, pg_is_in_recovery() FROM pg_control_system()", kCheckDeadline,
      [this, want, where, why = std::move(why),
       done = std::move(done)](Result<AsyncPgConn::Results> r) mutable {
        if (!r.ok())
          return done(Status::Unavailable("cannot ask " + where + ": " + r.status().message()));
        auto local = LocalSystemIdentifier(ctx_.layout.pgdata);
        if (!local.ok()) return done(local.status());
        if ((*r)[0].Get(0, 0) != std::to_string(*local))
          return done(Status::FailedPrecondition(where +
                                                 " belongs to another cluster (system "
                                                 "identifier " +
                                                 (*r)[0].Get(0, 0) +
                                                 ", this "
                                                 "node's is " +
                                                 std::to_string(*local) + ")"));
        if (!applied_.replica() && (*r)[0].Get(0, 1) == "t")
          return done(Status::FailedPrecondition(
              where + " is a replica: a primary can only be rewound from a primary"));
        if (mode() != Mode::kRunning)
          return done(Status::Unavailable(std::string("PostgreSQL is ") + ToString(mode())));
        controller_.SetTopology(want, std::move(why));
        WhenSettled([where, done = std::move(done)](Result<std::string> settled) {
          if (!settled.ok()) return done(settled.status());
          done("following " + where);
        });
      });
}

void Node::SteerTo(Topology t, std::string why) {
  if (controller_.desired().topology == t) return;
  controller_.SetTopology(std::move(t), std::move(why));
}

void Node::WhenSettled(RoleDone done) {
  const Topology want = controller_.desired().topology;
  controller_.When(
      {Mode::kRunning, Mode::kFailed, Mode::kCannotRejoin, Mode::kStopping, Mode::kStopped},
      [this, want, done = std::move(done)] {
        if (applied_ == want && mode() == Mode::kRunning) return done(std::string());
        if (!role_error_.empty()) return done(Status::Error(role_error_));
        done(Status::Unavailable(std::string("PostgreSQL is ") + ToString(mode())));
      });
}

void Node::WriteTopology(const Topology& t, const std::string& why, bool rewinding,
                         std::function<void(Status)> done) {
  // Small files, but each is fsynced: off the loop.
  NodeContext ctx = ctx_;
  const bool rewind_needed = rewind_needed_;
  std::function<Result<bool>()> work = [ctx, t, why, rewinding, rewind_needed]() -> Result<bool> {
    if (!rewinding) PGRT_RETURN_IF_ERROR(WriteTopologyFiles(ctx, t), "role");
    RoleRecord record = RecordOf(ctx, t, why);
    record.rewinding = rewinding;
    record.rewind_needed = rewind_needed;
    PGRT_RETURN_IF_ERROR(WriteRoleFile(ctx, record), "role");
    return true;
  };
  RunOffLoop<bool>(*loop_, std::move(work), kFilesDeadline,
                   [done = std::move(done)](Result<bool> r) { done(r.status()); });
}

void Node::Applied(const Topology& t) {
  if (!(applied_ == t)) spdlog::info("role: {} → {}", applied_.Describe(), t.Describe());
  applied_ = t;
  // A writable node's history may fork from whoever leads next.
  if (!t.replica()) rewind_needed_ = true;
  state_.SetTopology(t);
  role_error_.clear();
}

void Node::RoleActionFailed(const std::string& why) {
  spdlog::error("{}", why);
  role_error_ = why;
  state_.SetMessage(why);
  controller_.SetTopology(applied_, why);
  state_.SetTopology(applied_);
  Report();
}

void Node::Promote() {
  const pid_t pid = state_.postgres_pid();
  // pg_ctl's request rather than pg_promote(): no connection to make first, and pg_control
  // says the moment it is done, where pg_promote() looks every 100 ms.
  Status st = WritePromoteSignalFile(ctx_);
  if (st.ok()) st = supervisor_->Signal(kService, SIGUSR1);
  if (!st.ok()) return RoleActionFailed("promotion failed: " + st.message());
  promotion_nudge_.emplace(*loop_, [this] { supervisor_->Signal(kService, SIGHUP).IgnoreError(); });
  promoting_to_ = controller_.desired().topology;
  promoting_why_ = controller_.desired().topology_why;
  WaitPromoted(pid, clock_.Now() + kPromoteDeadline);
}

void Node::WaitPromoted(pid_t pid, SteadyTime deadline) {
  readiness_timer_ = loop_->AddTimer(kReadinessPoll, [this, pid, deadline] {
    readiness_timer_ = 0;
    if (state_.postgres_pid() != pid) {
      promotion_nudge_.reset();
      return RoleActionFailed("promotion failed: postgres stopped");
    }
    // pg_ctl's test: pg_control says "in production" once postgres takes writes (it is
    // written after the switch). postmaster.pid cannot tell: a hot standby is "ready" too.
    auto control = ReadControlFile(ctx_.layout.pgdata);
    if (!control.ok() || control->state != ClusterState::kInProduction) {
      if (clock_.Now() < deadline) return WaitPromoted(pid, deadline);
      promotion_nudge_.reset();
      return RoleActionFailed("promotion failed: not finished within " +
                              std::to_string(kPromoteDeadline.count() / 1000) + " s");
    }
    promotion_nudge_.reset();
    Topology want = controller_.desired().topology;
    std::string why = controller_.desired().topology_why;
    if (want.replica()) {
      // The wish was withdrawn while postgres promoted (PGRT_HA: the leader key was lost). It
      // is a primary now whatever the wish: its files say so, and the controller, seeing the
      // wish differ, demotes it at once (files written for the wish would hide the primary).
      want = promoting_to_;
      why = promoting_why_;
    }
    // The data changed its history: the set-up is checked again at the next start.
    set_up_done_ = false;
    state_.SetCheckpointPending(true);
    // pg_control is written after postgres lets backends write: what it says is observed.
    // The monitor's own look (a new connection, 0.1 s and more under load) fills in the
    // rest meanwhile; a load balancer's next check need not wait for it.
    Observation seen = state_.observation();
    seen.role = PgRole::kPrimary;
    seen.streaming = false;
    seen.wal_receiver = {{"status", "stopped"}};
    state_.SetObservation(seen);
    monitor_->RefreshNow(nullptr);
    WriteTopology(want, why, false, [this, want](Status st) {
      if (!st.ok()) spdlog::error("{}", st.message());  // postgres is a primary anyway
      Applied(want);
      Report();
      CheckpointAfterPromotion();
    });
  });
}

void Node::CheckpointAfterPromotion() {
  // pg_rewind reads the source's timeline from its control file, which a promotion updates
  // only at its next checkpoint: a former primary rewound before then would find "no rewind
  // required" and fail to follow. Peers wait for this (their member record says so).
  QueryOnce(*loop_, ctx_.LocalConn("postgres"), "CHECKPOINT", kPromoteDeadline,
            [this](Result<AsyncPgConn::Results> r) {
              if (r.ok()) return state_.SetCheckpointPending(false);
              spdlog::warn("checkpoint after the promotion: {}", r.status().message());
              loop_->AddTimer(Millis(1000), [this] { CheckpointAfterPromotion(); });
            });
}

void Node::Repoint() {
  const Topology want = controller_.desired().topology;
  if (!want.replica()) return Report();  // the wish changed: the controller moves on
  // A standby of no one, or one already known to need pg_rewind, follows as it is (or is
  // rewound on its way there): nothing to ask.
  if (want.waiting() || rewind_needed_) return RepointFiles(want);
  // Another primary may be on a newer timeline that forked off this node's before the WAL
  // this node holds (a replica that received more of a lost leader's WAL than the node
  // promoted): postgres cannot follow it, pg_rewind must come first. Asked on the loop.
  CheckFork(*loop_, ctx_.LocalConn("postgres"), PrimaryConn(ctx_.config, want.upstream),
            kCheckDeadline, [this, want](Result<ForkVerdict> verdict) {
              if (mode() != Mode::kRepointing) return;                          // stopped meanwhile
              if (!(controller_.desired().topology == want)) return Repoint();  // a newer wish
              if (!verdict.ok()) {
                // Not known: re-pointing now could leave postgres unable to follow for good.
                const std::string why = "cannot tell whether this node's data forked from " +
                                        want.upstream.host + ":" +
                                        std::to_string(want.upstream.port) + ": " +
                                        verdict.status().message() + " (retrying)";
                spdlog::warn("{}", why);
                state_.SetMessage(why);
                loop_->AddTimer(kForkCheckRetry, [this] {
                  if (mode() == Mode::kRepointing) Repoint();
                });
                return;
              }
              if (verdict->rewind) {
                spdlog::warn("following {}:{} needs pg_rewind: {}", want.upstream.host,
                             want.upstream.port, verdict->why);
                rewind_needed_ = true;
                return Report();  // the controller stops postgres and rewinds
              }
              spdlog::info("following {}:{} without pg_rewind: {}", want.upstream.host,
                           want.upstream.port, verdict->why);
              RepointFiles(want);
            });
}

void Node::WatchFork() {
  loop_->AddTimer(kForkWatch, [this] { WatchFork(); });
  const Topology up = applied_;
  if (mode() != Mode::kRunning || !up.replica() || up.waiting() || forked_ || fork_check_out_ ||
      !(controller_.desired().topology == up))
    return;
  const Observation o = state_.observation();
  if (o.role != PgRole::kReplica || o.streaming) return;
  fork_check_out_ = true;
  CheckFork(*loop_, ctx_.LocalConn("postgres"), PrimaryConn(ctx_.config, up.upstream),
            kCheckDeadline, [this, up](Result<ForkVerdict> verdict) {
              fork_check_out_ = false;
              // Not known (the primary is down, say): asked again at the next tick.
              if (!verdict.ok() || !verdict->rewind) return;
              if (mode() != Mode::kRunning || !(applied_ == up)) return;
              spdlog::warn("following {}:{} needs pg_rewind: {}", up.upstream.host,
                           up.upstream.port, verdict->why);
              forked_ = true;
              Report();
            });
}

void Node::RepointFiles(const Topology& want) {
  WriteTopology(want, controller_.desired().topology_why, false, [this, want](Status st) {
    if (!st.ok()) return RoleActionFailed("re-point failed: " + st.message());
    // primary_conninfo and primary_slot_name are reloadable: the WAL receiver restarts
    // with the new ones, postgres keeps running.
    supervisor_->Signal(kService, SIGHUP).IgnoreError();
    Applied(want);
    monitor_->Quicken(Millis(5000));
    monitor_->RefreshNow([this] { Report(); });
  });
}

}  // namespace pgrt
