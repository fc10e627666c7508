#include "node/node.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include "backup/pgbackrest.h"
#include "node/prepare.h"
#include "pg/async_conn.h"
#include "pgdata/control_file.h"
#include "pgdata/disk_space.h"
#include "pgdata/orphans.h"
#include "pgdata/postgres_process.h"
#include "pgdata/role_file.h"
#include "pooler/auth_setup.h"
#include "pooler/pooler.h"
#include "process/off_loop.h"
#include "replication/clone.h"
#include "replication/conninfo.h"
#include "replication/primary_setup.h"
#include "replication/rewind.h"
#include "replication/standby_files.h"
#include "replication/timeline.h"

namespace pgrt {

namespace {
constexpr const char* kService = "postgres";
constexpr Millis kReadinessPoll{2};
constexpr Millis kFinishRetry{500};
// How often the volumes are looked at: soon enough to restart within a second or two of
// space returning, cheap enough (a statvfs per volume) to do forever.
constexpr Millis kDiskCheck{1000};
constexpr Millis kSetUpDeadline{30000};
// How long a promotion may take (pg_ctl promote waits as long).
constexpr Millis kPromoteDeadline{60000};
// Writing a few small files (and fsyncing them).
constexpr Millis kFilesDeadline{30000};
// pg_rewind copies what changed since the fork; a large database may take a while.
constexpr Millis kRewindTimeout{30 * 60 * 1000};
constexpr Millis kRewindStopGrace{5000};
// A failed pg_rewind is tried again (the new primary may have been restarting, or busy with
// its checkpoint): this many tries in all, 1 s, 2 s, 4 s... apart.
constexpr int kRewindTries = 4;
constexpr Millis kRewindRetry{1000};
// A new clone at run time (PGRT_REPLICA_RECLONE): pg_basebackup, then one syncfs.
constexpr Millis kRecloneTimeout{6 * 60 * 60 * 1000};
// Asking a new upstream who it is before following it.
constexpr Millis kCheckDeadline{10000};
// Asking again when the new primary could not be asked whether this node's data forked.
constexpr Millis kForkCheckRetry{1000};
// How often a replica that does not stream asks its primary whether its data forked.
constexpr Millis kForkWatch{3000};

NodePhase PhaseOf(Mode m) {
  switch (m) {
    case Mode::kInitializing:
      return NodePhase::kInitializing;
    case Mode::kCloning:
      return NodePhase::kCloning;
    case Mode::kRestoring:
      return NodePhase::kRestoring;
    case Mode::kStarting:
      return NodePhase::kStarting;
    case Mode::kRunning:
      return NodePhase::kReady;
    case Mode::kRestarting:
      return NodePhase::kRestarting;
    case Mode::kHibernating:
      return NodePhase::kHibernating;
    case Mode::kHibernated:
      return NodePhase::kHibernated;
    case Mode::kWaking:
      return NodePhase::kWaking;
    case Mode::kPromoting:
      return NodePhase::kPromoting;
    case Mode::kRepointing:
      return NodePhase::kRepointing;
    case Mode::kDemoting:
      return NodePhase::kDemoting;
    case Mode::kRewinding:
      return NodePhase::kRewinding;
    case Mode::kRecloning:
      return NodePhase::kRecloning;
    case Mode::kCannotRejoin:
      return NodePhase::kCannotRejoin;
    case Mode::kStopping:
    case Mode::kStopped:
      return NodePhase::kStopping;
    case Mode::kFailed:
      return NodePhase::kFailed;
  }
  return NodePhase::kFailed;
}

// "12.0 MB of 96.0 MB (12 %)", or the share alone where the tool tells no bytes.
std::string DescribeProgress(const ProgressReading& r) {
  auto mb = [](uint64_t b) { return fmt::format("{:.1f} MB", static_cast<double>(b) / 1048576); };
  std::string text;
  if (r.bytes_done) text = mb(*r.bytes_done) + (r.bytes_total ? " of " + mb(*r.bytes_total) : "");
  if (r.percent)
    text +=
        fmt::format("{}{:.0f} %{}", text.empty() ? "" : " (", *r.percent, text.empty() ? "" : ")");
  return text;
}

// Keeps a clone's or a restore's progress in the state, and logs it every 10 % or 30 s, and
// at 100 %.
std::function<void(const std::string&, const std::optional<ProgressReading>&)> ProgressReporter(
    NodeState& state, const Clock& clock) {
  struct Logged {
    double percent = -100;
    SteadyTime at{};
  };
  auto logged = std::make_shared<Logged>();
  return [&state, &clock, logged](const std::string& op, const std::optional<ProgressReading>& r) {
    if (!r) {
      state.SetProgress(std::nullopt);
      *logged = Logged{};
      return;
    }
    auto p = state.progress();
    const SystemTime now = clock.WallNow();
    if (!p || p->operation != op) p = NodeState::Progress{op, *r, now, now};
    p->reading = *r;
    p->updated = now;
    state.SetProgress(p);
    const double percent = r->percent.value_or(0);
    const bool finished = percent >= 100 && logged->percent < 100;
    if (finished || percent - logged->percent >= 10 ||
        clock.Now() - logged->at >= std::chrono::seconds(30)) {
      spdlog::info("{}: {}", op, DescribeProgress(*r));
      *logged = Logged{percent, clock.Now()};
    }
  };
}

}  // namespace

Node::Node(NodeContext ctx, NodeState& state, Timings& timings, const Clock& clock)
    : ctx_(std::move(ctx)),
      state_(state),
      timings_(timings),
      clock_(clock),
      controller_(*this, clock) {
  ctx_.report_problem = [&state](const std::string& m) { state.SetMessage(m); };
  controller_.AllowReclone(ctx_.config.replica_reclone);
  ctx_.report_progress = ProgressReporter(state, clock);
  // Until PGDATA's role file is read, the configuration's topology is the best answer.
  state_.SetTopology(ConfiguredTopology(ctx_.config));
  controller_.OnMove([this](const TransitionRecord& move) {
    state_.SetPhase(PhaseOf(controller_.mode()));
    state_.CountMove(ToString(move.from), ToString(move.to));
    std::vector<NodeState::Move> moves;
    for (const TransitionRecord& r : controller_.history())
      moves.push_back({r.at, ToString(r.from), ToString(r.to), r.why});
    state_.SetTransitions(std::move(moves));
  });
}

Status Node::Prepare(Waiter& waiter, std::optional<Topology> cluster) {
  auto boot = PrepareDataDirectory(
      ctx_, waiter, timings_, clock_,
      [this](Mode m, std::string why) { controller_.Step(m, std::move(why)); }, cluster);
  if (!boot.ok()) return boot.status();
  applied_ = boot->topology;
  rewind_needed_ = boot->rewind_needed;
  controller_.Assume(applied_);
  state_.SetTopology(applied_);
  controller_.Step(Mode::kStarting, "PGDATA is ready");
  return Status::Ok();
}

Status Node::Start(EventLoop& loop, Supervisor& supervisor, std::vector<std::string> extra_args,
                   std::function<void(const std::string&)> on_fatal) {
  loop_ = &loop;
  supervisor_ = &supervisor;
  on_fatal_ = on_fatal;
  monitor_ = std::make_unique<Monitor>(ctx_, state_, loop);
  monitor_->Start();
  loop_->AddTimer(kForkWatch, [this] { WatchFork(); });
  ServiceSpec spec;
  spec.spawn = PostgresSpawnSpec(ctx_, ctx_.layout.pgdata, extra_args);
  AddArchiveEnvironment(ctx_.config, spec.spawn.env);  // archive_command runs pgBackRest
  spec.stop_signal = SIGINT;  // fast shutdown: roll back clients, checkpoint, exit
  spec.stop_timeout = Millis(60000);
  spec.max_restarts = ctx_.config.restart_max;
  spec.restart_window = Millis(ctx_.config.restart_window_seconds * 1000LL);
  const std::string datadir = ctx_.layout.pgdata;
  const uid_t owner = ctx_.run_as.uid;
  const std::string socket_lock =
      JoinPath(ctx_.layout.socket_dir, ".s.PGSQL." + std::to_string(ctx_.config.port) + ".lock");
  // On loop timers: the leftovers of a postmaster that died (ours a moment ago, or one a
  // killed pgrt left) hold the shared memory a new postmaster needs.
  spec.before_start = [this, datadir, owner, socket_lock](ServiceSpec::DoneCallback done) {
    auto clean_up = [this, datadir, owner, socket_lock, done]() {
      LeftoverCleanup how;
      how.datadir = datadir;
      how.owner = owner;
      EndLeftovers(*loop_, how, [datadir, owner, socket_lock, done](Status st) {
        if (!st.ok()) return done(st.Wrap("clean up"));
        st = ClearStaleLockFile(JoinPath(datadir, "postmaster.pid"), datadir, owner);
        if (st.ok()) st = ClearStaleLockFile(socket_lock, datadir, owner);
        done(st);
      });
    };
    if (applied_.replica() || !may_write_ || may_write_()) return clean_up();
    // A writable node that may not take writes now (PGRT_HA: its lease is gone, e.g. while
    // pgrt was frozen and the fence watchdog killed postgres): it starts as a standby of no
    // one, never as a primary for even a moment.
    rewind_needed_ = true;
    const Topology waiting = ReplicaOf({});
    WriteTopology(waiting, "no leader key: restarting as a standby", false,
                  [this, waiting, clean_up, done](Status st) {
                    if (!st.ok()) return done(st.Wrap("fence"));
                    Applied(waiting);
                    clean_up();
                  });
  };
  // Why postgres stopped is judged from the volumes at exit time (statvfs), not from the
  // words of its log: those are translated (lc_messages), pass through pgrt's stderr
  // unread (capturing them would put a pipe pgrt must drain in postgres's way), and lag
  // behind a fault that was fixed meanwhile. statvfs tells what holds now, and is what
  // decides when to try again.
  spec.lasting_fault = [this]() -> std::optional<std::string> { return CheckDisks(); };

  ServiceEvents events;
  events.on_start = [this](pid_t pid) {
    state_.SetPostgresPid(pid);
    WatchReadiness(pid, kReadinessPoll);
    Observe(true, false);
  };
  events.on_exit = [this](int, bool expected) {
    state_.SetPostgresPid(0);
    if (readiness_timer_) loop_->CancelTimer(readiness_timer_);
    readiness_timer_ = 0;
    if (!expected) state_.CountRestart();
    Observe(false, false);
  };
  events.on_give_up = [this, on_fatal](const std::string& reason) {
    state_.SetMessage(reason);
    Observe(false, false, true);
    on_fatal(reason);
  };
  supervisor.Add(kService, std::move(spec), std::move(events));
  timings_.EndPhase("prepare", clock_.Now());
  WatchDisks();
  return supervisor.Start(kService);
}

std::optional<std::string> Node::CheckDisks() {
  std::vector<VolumeUsage> volumes = StatVolumes(NodeVolumes(ctx_.config));
  std::optional<std::string> fault = DiskFault(volumes);
  // Logged when a fault begins or ends; the free bytes it quotes change all the time.
  const bool had_fault = !state_.disk_fault().empty();
  if (fault && !had_fault) spdlog::error("{}; postgres cannot write until this is fixed", *fault);
  if (!fault && had_fault)
    spdlog::info("the data and WAL volumes are writable and have space again");
  state_.SetDiskFault(fault.value_or(""));
  state_.SetVolumes(std::move(volumes));
  return fault;
}

void Node::WatchDisks() {
  // A statvfs per volume: no waiting worth a thread (a hung network file system would hang
  // postgres first).
  disk_timer_ = loop_->AddTimer(kDiskCheck, [this] {
    disk_timer_ = 0;
    bool fault = CheckDisks().has_value();
    // postgres waits for its next try during a fault: once it is over, try now.
    if (!fault && supervisor_->fault_restarts(kService) > 0) supervisor_->RetryNow(kService);
    WatchDisks();
  });
}

void Node::WatchReadiness(pid_t pid, Millis delay) {
  // postgres writes "ready" (or "standby") into postmaster.pid once it accepts
  // connections; reading the file is cheaper and sooner than a ping.
  readiness_timer_ = loop_->AddTimer(delay, [this, pid] {
    readiness_timer_ = 0;
    if (state_.postgres_pid() != pid) return;
    std::string st = PostmasterStatus(ctx_.layout.pgdata, pid);
    if (st == "ready" || st == "standby") return FinishStart(pid, st);
    WatchReadiness(pid, kReadinessPoll);
  });
}

void Node::FinishStart(pid_t pid, const std::string& postmaster_status) {
  // Writable (primary or standalone) only: a replica gets both through replication.
  const bool writable = postmaster_status == "ready";
  // The configured primary makes its replicas' role and slot; a promoted replica has them
  // (the role replicated, the slot was its primary's).
  const bool primary =
      applied_.role == ReplicationMode::kPrimary &&
      (ctx_.config.replication_mode == ReplicationMode::kPrimary || ctx_.config.ha_enabled());
  const bool pooler = pooler_ != nullptr;
  if (!writable && !pooler) return MarkReady(pid);
  if (writable && ((!primary && !pooler) || set_up_done_)) return MarkReady(pid);
  // Blocking libpq set-up on a worker of its own, with copies of what it needs; the
  // loop keeps the deadline.
  auto config = std::make_shared<const Config>(ctx_.config);
  ConnParams params = ctx_.LocalConn(ctx_.config.db);
  params["connect_timeout"] = "5";
  params["options"] = "-c statement_timeout=" + std::to_string(kSetUpDeadline.count());
  std::function<Result<bool>()> work = [config, params, writable, primary,
                                        pooler]() -> Result<bool> {
    auto conn = PgConn::Connect(params);
    if (!conn.ok()) return conn.status().Wrap("set-up");
    if (!writable) return PoolerAuthInstalled(*conn);  // a replica: its primary does it
    if (primary) PGRT_RETURN_IF_ERROR(SetUpPrimary(*conn, *config), "set-up");
    if (pooler) PGRT_RETURN_IF_ERROR(SetUpPoolerAuth(*conn, params), "set-up");
    return true;
  };
  RunOffLoop<bool>(*loop_, std::move(work), kSetUpDeadline, [this, pid, writable](Result<bool> r) {
    if (state_.postgres_pid() != pid) return;  // postgres restarted meanwhile
    if (!writable) {
      if (r.ok() && !*r)
        spdlog::warn(
            "pgbouncer: the primary has not set up PgBouncer's authentication yet "
            "(enable PGBOUNCER_ENABLED there too); pooled logins fail until it has");
      return MarkReady(pid);  // nothing to tell when it cannot ask: pooled logins show it
    }
    if (r.ok()) {
      set_up_done_ = true;
      return MarkReady(pid);
    }
    spdlog::warn("{} (retrying)", r.status().message());
    state_.SetMessage(r.status().message());
    readiness_timer_ = loop_->AddTimer(kFinishRetry, [this, pid] {
      readiness_timer_ = 0;
      if (state_.postgres_pid() == pid) WatchReadiness(pid, Millis(0));
    });
  });
}

void Node::MarkReady(pid_t pid) {
  if (on_accepting_) on_accepting_();
  // The first observation comes before "ready": every view (status, role checks, pg_up)
  // agrees with the health check from the first moment.
  monitor_->RefreshNow([this, pid] {
    if (state_.postgres_pid() != pid) return;  // it exited meanwhile
    timings_.MarkReady(clock_.Now());
    state_.SetMessage("");
    Observe(true, true);
    monitor_->Quicken(Millis(5000));
    spdlog::info("postgres is ready (pid {})", pid);
    if (on_ready_) on_ready_();
    StartPooler();
  });
}

void Node::StartPooler() {
  if (pooler_ == nullptr) return;
  // Once: PgBouncer keeps running (and reconnecting) while postgres restarts.
  if (Status st = pooler_->Start(*loop_, *supervisor_); !st.ok()) {
    spdlog::error("{}", st.message());
    state_.SetMessage(st.message());
  }
}

void Node::Reload() {
  if (supervisor_ == nullptr) return;
  supervisor_->Signal(kService, SIGHUP).IgnoreError();  // not running: nothing to reload
  if (pooler_ != nullptr) pooler_->Reload();
}

void Node::AfterControl(ControlVerb, std::function<void()> then) {
  if (monitor_) return monitor_->RefreshNow(std::move(then));
  if (then) then();
}

void Node::Observe(bool running, bool ready, bool gave_up) {
  running_ = running;
  ready_ = ready;
  gave_up_ = gave_up;
  Report();
}

void Node::Report() {
  Observed o;
  o.postgres_running = running_;
  o.ready = ready_;
  o.gave_up = gave_up_;
  o.role = ready_ ? state_.observation().role : PgRole::kUnknown;
  o.applied = applied_;
  o.action_failed = action_failed_;
  o.rewind_needed = rewind_needed_;
  o.forked = forked_;
  controller_.Observe(o);
}

void Node::StartPostgres() {
  if (Status st = supervisor_->Start(kService); !st.ok()) {
    spdlog::error("{}", st.message());
    state_.SetMessage(st.message());
  }
}

void Node::StopPostgres() {
  if (readiness_timer_) loop_->CancelTimer(readiness_timer_);
  readiness_timer_ = 0;
  // The exit arrives as an expected one (on_exit), which the controller observes.
  supervisor_->Stop(kService, SIGINT, nullptr);
}

void Node::Shutdown() {
  if (on_shutdown_) on_shutdown_();
}

void Node::Hibernate(std::string why, std::function<void(Mode)> done) {
  if (supervisor_ == nullptr) return done(mode());  // still preparing PGDATA
  controller_.Hibernate(std::move(why));
  controller_.When({Mode::kHibernated, Mode::kStopping, Mode::kStopped, Mode::kFailed},
                   [this, done = std::move(done)] { done(controller_.mode()); });
}

void Node::Wake(std::string why, std::function<void(Mode)> done) {
  if (supervisor_ == nullptr) return done(mode());
  controller_.Wake(std::move(why));
  controller_.When(
      {Mode::kRunning, Mode::kHibernating, Mode::kStopping, Mode::kStopped, Mode::kFailed},
      [this, done = std::move(done)] { done(controller_.mode()); });
}

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
    const Topology want = controller_.desired().topology;
    const std::string why = controller_.desired().topology_why;
    // The data changed its history: the set-up is checked again at the next start.
    set_up_done_ = false;
    state_.SetCheckpointPending(true);
    WriteTopology(want, why, false, [this, want](Status st) {
      if (!st.ok()) spdlog::error("{}", st.message());  // postgres is a primary anyway
      Applied(want);
      monitor_->RefreshNow([this] { Report(); });
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

void Node::Rewind() {
  const Topology want = controller_.desired().topology;
  const std::string why = controller_.desired().topology_why;
  if (!want.replica()) {
    // The wish changed while postgres stopped (this node leads again): it starts as it was.
    rewind_tries_ = 0;
    return Report();
  }
  if (want.waiting()) {
    // Fenced, and no leader known yet: a standby of no one. The data keeps its mark, so it
    // is rewound before it follows anyone.
    rewind_needed_ = true;
    return WriteTopology(want, why, false, [this, want](Status st) {
      if (!st.ok()) return FinishRewind(st);
      Applied(want);
      Report();
    });
  }
  // The role file says "rewinding" first: a pgrt killed meanwhile finds out at its next
  // start that the data may be half rewound, and does not start it as it was.
  ++rewind_tries_;
  WriteTopology(want, why, true, [this, want, why](Status st) {
    if (!st.ok()) return FinishRewind(st);
    auto dir = PrivateDir::Create(ctx_);
    if (!dir.ok()) return FinishRewind(dir.status());
    rewind_dir_.emplace(std::move(*dir));
    auto cmd = RewindCommandFor(ctx_, want.upstream, rewind_dir_->path());
    if (!cmd.ok()) return FinishRewind(cmd.status());
    spdlog::info("pg_rewind: making {} follow {}:{}", ctx_.layout.pgdata, want.upstream.host,
                 want.upstream.port);
    rewind_job_ = std::make_unique<ChildJob>(
        *loop_, "pg_rewind", JoinPath(rewind_dir_->path(), "pg_rewind"),
        std::vector<JobStep>{{cmd->spec, nullptr}}, [this](const Status& st) {
          // Later, on the loop: the job object is not destroyed inside its own callback.
          loop_->Post([this, st] { FinishRewind(st); });
        });
    if (Status started = rewind_job_->Start(kRewindTimeout); !started.ok())
      return FinishRewind(started);
    // cmd's password descriptor closes here: the child holds its own copy.
  });
}

bool Node::StopWaitingForJob() {
  rewind_job_.reset();
  rewind_dir_.reset();
  if (!after_rewind_stop_) return false;
  // A shutdown was waiting; the role file still says "rewinding" (or PGDATA holds no
  // complete clone): the next start finds out.
  auto stop = std::move(after_rewind_stop_);
  after_rewind_stop_ = nullptr;
  stop();
  return true;
}

void Node::FinishRewind(const Status& st) {
  if (StopWaitingForJob()) return;
  const Topology want = controller_.desired().topology;
  if (!st.ok()) {
    const std::string why = "pg_rewind failed: " + st.message();
    role_error_ = why;
    if (rewind_tries_ < kRewindTries) {
      const Millis delay = kRewindRetry * (1 << (rewind_tries_ - 1));
      spdlog::warn("{} (try {} of {}; again in {} s)", why, rewind_tries_, kRewindTries,
                   delay.count() / 1000);
      state_.SetMessage(why + " (trying again)");
      loop_->AddTimer(delay, [this] {
        if (mode() == Mode::kRewinding && !rewind_job_) Rewind();
      });
      return;
    }
    spdlog::error("{} (try {} of {}: giving up)", why, rewind_tries_, kRewindTries);
    rewind_tries_ = 0;
    action_failed_ = true;
    if (!ctx_.config.replica_reclone)
      state_.SetMessage(
          "pg_rewind from " + want.upstream.host + ":" + std::to_string(want.upstream.port) +
          " failed " + std::to_string(kRewindTries) + " times (" + st.message() +
          "); postgres stays stopped and this node does not take part in elections. Set "
          "PGRT_REPLICA_RECLONE=true and restart pgrt to move this data aside and clone the "
          "leader again (pgrt keeps the old data), or fix the cause and restart pgrt");
    Report();
    return;
  }
  rewind_tries_ = 0;
  set_up_done_ = false;
  rewind_needed_ = false;
  forked_ = false;
  // pg_rewind copied the new primary's files (its settings, pg_hba.conf, role file) and
  // removed the ones it lacks (standby.signal, the passfile): this node's are written again.
  WriteTopology(want, controller_.desired().topology_why, false, [this, want](Status st2) {
    if (!st2.ok()) {
      action_failed_ = true;
      role_error_ = st2.message();
      state_.SetMessage(st2.message());
      Report();
      return;
    }
    spdlog::info("pg_rewind finished");
    Applied(want);
    Report();
  });
}

void Node::Reclone() {
  const Topology want = controller_.desired().topology;
  action_failed_ = false;
  if (!want.replica() || want.waiting())
    return FinishReclone(Status::Unavailable("no leader to clone"));
  const std::string where = want.upstream.host + ":" + std::to_string(want.upstream.port);
  spdlog::warn("re-clone (PGRT_REPLICA_RECLONE): moving {} aside to clone {}", ctx_.layout.pgdata,
               where);
  state_.SetMessage("pg_rewind kept failing: cloning " + where +
                    " again (PGRT_REPLICA_RECLONE); the old data is kept beside PGDATA");
  // Renames and a new empty directory, fsynced: off the loop. pgrt never deletes the data.
  NodeContext ctx = ctx_;
  std::function<Result<bool>()> aside = [ctx]() -> Result<bool> {
    PGRT_RETURN_IF_ERROR(MoveDataAside(ctx), "re-clone");
    PGRT_RETURN_IF_ERROR(PrepareScratch(ctx), "re-clone");
    return true;
  };
  RunOffLoop<bool>(*loop_, std::move(aside), kFilesDeadline, [this, want](Result<bool> r) {
    if (!r.ok()) return FinishReclone(r.status());
    auto dir = PrivateDir::Create(ctx_);
    if (!dir.ok()) return FinishReclone(dir.status().Wrap("re-clone"));
    rewind_dir_.emplace(std::move(*dir));
    const std::string passfile = JoinPath(rewind_dir_->path(), "pgpass");
    if (Status st = WriteOwnedFile(ctx_, passfile, PassfileLine(ctx_.config, want.upstream), 0600);
        !st.ok())
      return FinishReclone(st.Wrap("re-clone"));
    SpawnSpec spec = BaseBackupSpec(ctx_, want.upstream, ctx_.layout.init_scratch, passfile);
    rewind_job_ = std::make_unique<ChildJob>(
        *loop_, "pg_basebackup", JoinPath(rewind_dir_->path(), "pg_basebackup"),
        std::vector<JobStep>{{spec, nullptr}},
        [this](const Status& st) { loop_->Post([this, st] { PlaceReclone(st); }); });
    if (Status started = rewind_job_->Start(kRecloneTimeout); !started.ok())
      return PlaceReclone(started);
  });
}

void Node::PlaceReclone(const Status& st) {
  if (StopWaitingForJob()) return;
  if (!st.ok()) return FinishReclone(st);
  NodeContext ctx = ctx_;
  std::function<Result<bool>()> place = [ctx]() -> Result<bool> {
    PGRT_RETURN_IF_ERROR(PlaceClone(ctx, false), "re-clone");
    PGRT_RETURN_IF_ERROR(PlaceClone(ctx, true), "re-clone");
    return true;
  };
  RunOffLoop<bool>(*loop_, std::move(place), kRecloneTimeout,
                   [this](Result<bool> r) { FinishReclone(r.status()); });
}

void Node::FinishReclone(const Status& st) {
  const Topology want = controller_.desired().topology;
  if (!st.ok()) {
    action_failed_ = true;
    const std::string why = "the new clone of " + want.upstream.host + " failed: " + st.message() +
                            "; postgres stays stopped (the old data is kept beside PGDATA). "
                            "Restart pgrt to clone again";
    spdlog::error("{}", why);
    role_error_ = why;
    state_.SetMessage(why);
    return Report();
  }
  set_up_done_ = false;
  rewind_needed_ = false;
  forked_ = false;
  WriteTopology(want, controller_.desired().topology_why, false, [this, want](Status st2) {
    if (!st2.ok()) return FinishReclone(st2);
    spdlog::info("the new clone of {}:{} is in place", want.upstream.host, want.upstream.port);
    state_.SetMessage("");
    Applied(want);
    Report();
  });
}

bool Node::OnChildExit(pid_t pid, int wait_status) {
  return rewind_job_ && rewind_job_->OnChildExit(pid, wait_status);
}

void Node::Shutdown(int sig, std::function<void()> done) {
  if (disk_timer_) loop_->CancelTimer(disk_timer_);
  disk_timer_ = 0;
  if (readiness_timer_) loop_->CancelTimer(readiness_timer_);
  readiness_timer_ = 0;
  promotion_nudge_.reset();  // a promotion under way ends with postgres
  if (supervisor_ == nullptr) {
    done();
    return;
  }
  auto stop_postgres = [this, sig, done = std::move(done)]() mutable {
    supervisor_->Stop(kService, sig, std::move(done));
  };
  // The pooler goes first: clients are turned away by it, not cut off by postgres.
  std::function<void()> stop = [this, sig, stop_postgres = std::move(stop_postgres)]() mutable {
    if (pooler_ != nullptr) return pooler_->Stop(sig == SIGQUIT, std::move(stop_postgres));
    stop_postgres();
  };
  if (rewind_job_ && rewind_job_->running()) {
    // pg_rewind ends first; the role file keeps saying the data may be half rewound.
    after_rewind_stop_ = std::move(stop);
    rewind_job_->Stop(kRewindStopGrace, "pgrt is stopping");
    return;
  }
  stop();
}

}  // namespace pgrt
