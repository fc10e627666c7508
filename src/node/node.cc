#include "node/node.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include "backup/pgbackrest.h"
#include "node/node_limits.h"
#include "node/prepare.h"
#include "pgdata/disk_space.h"
#include "pgdata/orphans.h"
#include "pgdata/postgres_process.h"
#include "pooler/auth_setup.h"
#include "pooler/pooler.h"
#include "process/off_loop.h"
#include "replication/primary_setup.h"

namespace pgrt {

using namespace node_limits;

namespace {
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

Task<Status> Node::Prepare(const TaskContext& tc, std::optional<Topology> cluster) {
  // Named, not a temporary of the co_await's expression (GCC 12: see process/task.h).
  const StepReporter step = [this](Mode m, std::string why) {
    controller_.Step(m, std::move(why));
  };
  auto boot = co_await PrepareDataDirectory(tc, ctx_, timings_, clock_, step, cluster);
  if (!boot.ok()) co_return boot.status();
  applied_ = boot->topology;
  rewind_needed_ = boot->rewind_needed;
  controller_.Assume(applied_);
  state_.SetTopology(applied_);
  controller_.Step(Mode::kStarting, "PGDATA is ready");
  co_return Status::Ok();
}

Status Node::Start(EventLoop& loop, ChildExits& exits, Supervisor& supervisor,
                   std::vector<std::string> extra_args,
                   std::function<void(const std::string&)> on_fatal) {
  loop_ = &loop;
  tasks_.emplace(loop, exits, rejoin_cancel_);
  supervisor_ = &supervisor;
  on_fatal_ = on_fatal;
  monitor_ = std::make_unique<Monitor>(ctx_, state_, loop);
  monitor_->Start();
  loop_->AddTimer(kForkWatch, [this] { WatchFork(); });
  ServiceSpec spec;
  spec.spawn = PostgresSpawnSpec(ctx_, ctx_.layout.pgdata, extra_args);
  AddArchiveEnvironment(ctx_.config, spec.spawn.env);  // archive_command runs pgBackRest
  for (const auto& [name, value] : postgres_env_) spec.spawn.env[name] = value;
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
    if (on_exit_) on_exit_();
    Observe(false, false);
  };
  events.on_give_up = [this, on_fatal](const std::string& reason) {
    state_.SetMessage(reason);
    // A failed wake leaves pgrt serving, the node asleep (the controller's table); any other
    // give-up ends pgrt, so that what runs it can restart it.
    const bool waking = mode() == Mode::kWaking;
    Observe(false, false, true);
    if (!waking) on_fatal(reason);
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
  o.failed_for = failed_for_;
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
  // Hibernated again: the wake failed (postgres kept failing to start).
  controller_.When({Mode::kRunning, Mode::kHibernating, Mode::kHibernated, Mode::kStopping,
                    Mode::kStopped, Mode::kFailed},
                   [this, done = std::move(done)] { done(controller_.mode()); });
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
  if (rejoining_) {
    // pg_rewind (or a re-clone) ends first, its command stopped (RunCommand: SIGTERM, then
    // SIGKILL after 5 s); the role file keeps saying the data may be half rewound. The
    // task may end inside Cancel(): the stop is in place before.
    after_rejoin_stop_ = std::move(stop);
    rejoin_cancel_.Cancel("pgrt is stopping");
    return;
  }
  stop();
}

}  // namespace pgrt
