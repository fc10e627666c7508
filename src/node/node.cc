#include "node/node.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include "node/disk_space.h"
#include "node/orphans.h"
#include "node/postgres_process.h"
#include "node/prepare.h"
#include "pooler/auth_setup.h"
#include "pooler/pooler.h"
#include "replication/primary_setup.h"

namespace pgrt {

namespace {
constexpr const char* kService = "postgres";
constexpr Millis kReadinessPoll{2};
constexpr Millis kFinishRetry{500};
// How often the volumes are looked at: soon enough to restart within a second or two of
// space returning, cheap enough (a statvfs per volume) to do forever.
constexpr Millis kDiskCheck{1000};
}  // namespace

Status Node::Prepare(Waiter& waiter) {
  return PrepareDataDirectory(ctx_, waiter, timings_, clock_);
}

Status Node::Start(EventLoop& loop, Supervisor& supervisor, std::vector<std::string> extra_args,
                   std::function<void(const std::string&)> on_fatal) {
  loop_ = &loop;
  supervisor_ = &supervisor;
  monitor_ = std::make_unique<Monitor>(ctx_, state_, loop);
  monitor_->Start();
  ServiceSpec spec;
  spec.spawn = PostgresSpawnSpec(ctx_, ctx_.layout.pgdata, extra_args);
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
    LeftoverCleanup how;
    how.datadir = datadir;
    how.owner = owner;
    EndLeftovers(*loop_, how, [datadir, owner, socket_lock, done = std::move(done)](Status st) {
      if (!st.ok()) return done(st.Wrap("clean up"));
      st = ClearStaleLockFile(JoinPath(datadir, "postmaster.pid"), datadir, owner);
      if (st.ok()) st = ClearStaleLockFile(socket_lock, datadir, owner);
      done(st);
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
  };
  events.on_exit = [this](int, bool expected) {
    state_.SetPostgresPid(0);
    if (readiness_timer_) loop_->CancelTimer(readiness_timer_);
    readiness_timer_ = 0;
    if (!expected) {
      state_.SetPhase(NodePhase::kRestarting);
      state_.CountRestart();
    }
  };
  events.on_give_up = [this, on_fatal](const std::string& reason) {
    state_.SetPhase(NodePhase::kFailed);
    state_.SetMessage(reason);
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
    bool accepting = st == "ready" || st == "standby";
    if (accepting && !FinishStart(st)) return WatchReadiness(pid, kFinishRetry);
    if (accepting) {
      timings_.MarkReady(clock_.Now());
      state_.SetPhase(NodePhase::kReady);
      state_.SetMessage("");
      monitor_->RefreshNow();
      spdlog::info("postgres is ready (pid {})", pid);
      if (on_ready_) on_ready_();
      StartPooler();
      return;
    }
    WatchReadiness(pid, kReadinessPoll);
  });
}

bool Node::FinishStart(const std::string& postmaster_status) {
  // Writable (primary or standalone) only: a replica gets both through replication.
  const bool writable = postmaster_status == "ready";
  const bool primary = ctx_.config.replication_mode == ReplicationMode::kPrimary;
  if (!writable && pooler_ != nullptr) WarnIfPoolerAuthMissing();
  if (!writable || (!primary && pooler_ == nullptr)) return true;
  PgConn* conn = monitor_->Connection();
  Status st = conn ? Status::Ok() : Status::Error("set-up: cannot connect to postgres");
  if (st.ok() && primary) st = SetUpPrimary(*conn, ctx_.config);
  if (st.ok() && pooler_ != nullptr) st = SetUpPoolerAuth(*conn, ctx_.LocalConn(ctx_.config.db));
  if (st.ok()) return true;
  spdlog::warn("{} (retrying)", st.message());
  state_.SetMessage(st.message());
  return false;
}

void Node::WarnIfPoolerAuthMissing() {
  PgConn* conn = monitor_->Connection();
  if (conn == nullptr) return;  // nothing to tell yet; pooled logins show it soon enough
  auto installed = PoolerAuthInstalled(*conn);
  if (installed.ok() && !*installed)
    spdlog::warn("pgbouncer: the primary has not set up PgBouncer's authentication yet "
                 "(enable PGBOUNCER_ENABLED there too); pooled logins fail until it has");
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

void Node::AfterControl(ControlVerb verb) {
  if (verb == ControlVerb::kPromote) {
    Status st = WriteOwnedFile(ctx_, ctx_.layout.promoted_marker,
                               "promoted through the API; see docs/replication.md\n", 0600);
    if (!st.ok()) spdlog::error("record promotion: {}", st.message());
    spdlog::info("promoted to primary");
  }
  if (monitor_) monitor_->RefreshNow();
}

void Node::Shutdown(int sig, std::function<void()> done) {
  state_.SetPhase(NodePhase::kStopping);
  if (disk_timer_) loop_->CancelTimer(disk_timer_);
  disk_timer_ = 0;
  if (readiness_timer_) loop_->CancelTimer(readiness_timer_);
  readiness_timer_ = 0;
  if (supervisor_ == nullptr) {
    done();
    return;
  }
  auto stop_postgres = [this, sig, done = std::move(done)]() mutable {
    supervisor_->Stop(kService, sig, std::move(done));
  };
  // The pooler goes first: clients are turned away by it, not cut off by postgres.
  if (pooler_ != nullptr) return pooler_->Stop(sig == SIGQUIT, std::move(stop_postgres));
  stop_postgres();
}

}  // namespace pgrt
