#include "runtime/runtime.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include "pgdata/data_dir.h"
#include "process/child.h"
#include "process/resident_memory.h"
#include "replication/conninfo.h"

namespace pgrt {
namespace {

constexpr Millis kHeartbeat{1000};
constexpr Millis kEtcdTimeout{2000};
// Bounded well inside the 60 s a switchover request waits for its candidate to lead.
constexpr Millis kHandoverCheckpoint{15000};

ConnParams ControlParams(const NodeContext& ctx) {
  ConnParams p = ctx.LocalConn(ctx.config.db);
  p["application_name"] = "pgrt-control";
  return p;
}

}  // namespace

Runtime::Runtime(const Config& config, Credentials run_as,
                 std::map<std::string, std::string> child_env, const Clock& clock, Timings& timings)
    : user_config_(config),
      handoff_(PlanClientHandoff(config, run_as.uid)),
      facing_(PostgresFacingConfig(config, handoff_.ok())),
      config_(facing_.ok() ? *facing_ : config),
      clock_(clock),
      timings_(timings),
      loop_(clock),
      ctx_{config_, NodeLayout::From(config_), std::move(run_as), std::move(child_env)},
      node_(ctx_, state_, timings, clock),
      // pgrt's own round trips from the API, asynchronous with deadlines (pg/async_conn.h).
      probe_(loop_, ctx_.LocalConn(config.db)),
      control_(loop_, ControlParams(ctx_)),
      backups_(node_.context(), state_, loop_),
      supervisor_(loop_) {
  state_.Beat(clock.Now());
}

Runtime::~Runtime() = default;

Status Runtime::Init() {
  PGRT_RETURN_IF_ERROR(loop_.Init(), "event loop");
  if (!facing_.ok()) return facing_.status().Wrap("PGRT_IDLE_TIMEOUT");
  if (config_.pgbouncer_enabled) {
    auto p = Pooler::Create(node_.context(), user_config_.pgbouncer_port);
    if (!p.ok()) return p.status();
    pooler_ = std::move(*p);
    node_.SetPooler(pooler_.get());
  }
  if (config_.idle_enabled()) {
    HandoffPlan* handoff = handoff_.ok() ? &*handoff_ : nullptr;
    sleeper_ = std::make_unique<Sleeper>(loop_, user_config_, config_, node_, state_, backups_,
                                         pooler_.get(), handoff);
    // The client port is held before anything else starts: a client that comes early waits.
    // Its socket file lives in the socket directory start-up makes anyway (postgres's beside
    // it, or in a private directory inside it with the handoff).
    PGRT_RETURN_IF_ERROR(MakeSharedDirectory(ctx_, user_config_.socket_dir, 0755),
                         "PGRT_SOCKET_DIR");
    if (handoff)
      PGRT_RETURN_IF_ERROR(MakeSharedDirectory(ctx_, ctx_.layout.socket_dir, 0755),
                           "PGRT_SOCKET_DIR");
    PGRT_RETURN_IF_ERROR(sleeper_->Listen(), "PGRT_IDLE_TIMEOUT");
    if (handoff) {
      node_.AddPostgresEnvironment(HandoffEnvironment(*handoff));
      spdlog::info(
          "sleep: postgres shares port {} with pgrt (SO_REUSEPORT, {}): clients connect to it "
          "directly while it is up, and wait at pgrt while it sleeps",
          user_config_.port, handoff->shim);
    } else {
      spdlog::warn(
          "sleep: the client port cannot be shared with postgres ({}); every client is "
          "relayed through pgrt",
          handoff_.status().message());
      spdlog::info(
          "sleep: clients connect through pgrt on port {}; postgres listens on 127.0.0.1:{}",
          user_config_.port, config_.port);
    }
    if (pooler_)
      spdlog::info(
          "sleep: PgBouncer's clients connect through pgrt on port {}; PgBouncer "
          "listens on 127.0.0.1:{}",
          user_config_.pgbouncer_port, config_.pgbouncer_port);
  }
  if (config_.ha_enabled()) {
    auto endpoints = ParseEtcdEndpoints(config_.etcd_endpoints);
    if (!endpoints.ok()) return endpoints.status().Wrap("PGRT_ETCD_ENDPOINTS");
    EtcdClientOptions eo;
    eo.timeout = kEtcdTimeout;
    eo.tls = {config_.etcd_ca_file, config_.etcd_cert_file, config_.etcd_key_file};
    eo.user = config_.etcd_username;
    eo.password = config_.etcd_password;
    auto etcd = EtcdClient::Create(loop_, std::move(*endpoints), std::move(eo));
    if (!etcd.ok()) return etcd.status().Wrap("etcd");
    etcd_ = std::move(*etcd);
    HaOptions ho;
    ho.cluster = config_.cluster_name;
    ho.name = NodeName(config_);
    ho.ttl_seconds = config_.ha_ttl_seconds;
    ho.maximum_lag = static_cast<uint64_t>(config_.maximum_lag_on_failover);
    ho.on_renewed = [this] { ArmFence(); };
    ho.sync_mode = config_.sync_mode != "off";
    cluster_ = std::make_unique<ClusterAgent>(
        loop_, *etcd_, ho, [this] { return Self(); },
        [this] {
          state_.SetLeaseHeld(cluster_->leading());
          state_.SetCluster(cluster_->View());
          SteerByCluster();
          ArmFence();
        });
    state_.SetLeaseHeld(false);
    if (ho.sync_mode)
      sync_ = std::make_unique<SyncStandby>(loop_, *etcd_, ClusterKey(ho.cluster, "sync"),
                                            ControlParams(ctx_), config_.sync_mode == "strict");
    cluster_->OnHandover([this](const std::string& candidate) {
      // A checkpoint first, while postgres still takes writes: the shutdown checkpoint that
      // follows, during which nothing can be written anywhere, then has little left to
      // flush. Its failure or slowness only makes the gap longer, never stops the handover.
      control_.Query("CHECKPOINT", kHandoverCheckpoint, [this, candidate](auto r) {
        if (!r.ok()) spdlog::warn("ha: checkpoint before the handover: {}", r.status().message());
        // Writes stop (postgres stops cleanly, its last WAL streamed to the replicas), then
        // the key goes, and the candidate, which has all of it, takes over.
        handing_over_ = candidate;
        SteerByCluster();
        node_.WhenDown([this] {
          if (handing_over_.empty()) return;
          cluster_->Resign([this] { handing_over_.clear(); });
        });
      });
    });
    PGRT_RETURN_IF_ERROR(StartWatchdog(), "ha");
    node_.SetMayWrite([this] { return MayWrite(); });
  }
  metrics_ = std::make_unique<MetricsCollector>(
      MetricsSources{ctx_.LocalConn(config_.db),
                     pooler_ ? std::optional<ConnParams>(pooler_->ConsoleParams()) : std::nullopt,
                     pooler_ ? &pooler_->errors().counts() : nullptr},
      state_, loop_);
  // The API runs on the loop: what the node records after a control action runs there too.
  ApiContext api{config_, state_, timings_, probe_, control_, clock_};
  api.after_control = [this](ControlVerb verb, std::function<void()> then) {
    node_.AfterControl(verb, std::move(then));
  };
  api.promote = [this](std::string why, ApiContext::RoleDone done) {
    node_.Promote(std::move(why), std::move(done));
  };
  api.follow = [this](Upstream up, std::string why, ApiContext::RoleDone done) {
    node_.Follow(std::move(up), std::move(why), std::move(done));
  };
  api.hibernate = [this](std::string why, std::function<void(Mode)> done) {
    if (sleeper_) return sleeper_->Hibernate(std::move(why), std::move(done));
    node_.Hibernate(std::move(why), std::move(done));
  };
  api.wake = [this](std::string why, std::function<void(Mode)> done) {
    if (sleeper_) return sleeper_->Wake(std::move(why), std::move(done));
    node_.Wake(std::move(why), std::move(done));
  };
  if (cluster_) {
    api.switchover = [this](std::string leader, std::string candidate, bool failover,
                            ApiContext::RoleDone done) {
      cluster_->RequestSwitchover(leader, candidate, failover, std::move(done));
    };
  }
  api.backups = &backups_;
  api.metrics = metrics_.get();
  api_ = std::make_unique<ApiServer>(api, loop_);
  PGRT_RETURN_IF_ERROR(InitTls(), "TLS");
  PGRT_RETURN_IF_ERROR(api_->Start(config_.api_address, config_.api_port), "management API");
  spdlog::info("management API on {}://{}:{}", api_tls_ ? "https" : "http", config_.api_address,
               config_.api_port);
  return Status::Ok();
}

void Runtime::Beat() {
  state_.Beat(clock_.Now());
  ArmFence();  // a restarted postmaster has a new pid
  if (sync_ && cluster_->leading() && node_.mode() == Mode::kRunning) {
    sync_->Tick(NodeName(config_), cluster_->members(), state_.observation().standbys,
                cluster_->sync_state());
  } else if (sync_) {
    sync_->Reset();
  }
  loop_.AddTimer(kHeartbeat, [this] { Beat(); });
}

int Runtime::Run(SignalSource& signals, std::vector<std::string> postgres_args) {
  if (Status st = Init(); !st.ok()) {
    spdlog::critical("{}", st.message());
    return 1;
  }
  // Signals are loop events from the first moment: a SIGTERM during start-up cancels it.
  if (Status st = loop_.Watch(signals.fd(), [this, &signals] { OnSignals(signals); }); !st.ok()) {
    spdlog::critical("{}", st.message());
    return 1;
  }
  // The loop's heartbeat (/liveness) beats from the start, and the API answers (503) while
  // the start-up task runs on the same loop.
  Beat();
  postgres_args_ = std::move(postgres_args);
  starting_up_ = true;
  startup_ = StartTask<Status>(StartUp(), [this](Status st) { AfterStartUp(std::move(st)); });
  if (Status st = loop_.Run(); !st.ok()) {
    spdlog::critical("{}", st.message());
    exit_code_ = 1;
  }
  startup_.reset();  // still under way only when the loop itself failed
  api_->Stop();
  spdlog::info("pgrt exits ({})", exit_code_);
  return exit_code_;
}

Task<Status> Runtime::StartUp() {
  std::optional<Topology> cluster_role;
  if (cluster_) {
    auto decided = co_await DecideClusterBoot();
    if (!decided.ok()) co_return decided.status();
    cluster_role = *decided;
  }
  co_return co_await node_.Prepare(tasks_, cluster_role);
}

void Runtime::AfterStartUp(Status st) {
  starting_up_ = false;
  // May run inside StartTask, before the loop runs: the loop quits through a posted closure,
  // which a Quit() before Run() would not do.
  auto stop = [this](int code) {
    exit_code_ = code;
    loop_.Post([this] { loop_.Quit(); });
  };
  if (cancel_.cancelled()) {
    spdlog::info("stopped during start-up by signal {}", startup_signal_);
    return stop(0);
  }
  if (!st.ok()) {
    spdlog::critical("{}", st.message());
    return stop(1);
  }
  // The copies are in place: rotations may replace them from now on.
  if (postgres_tls_) postgres_tls_->Start();
  // The controller's Shutdown action.
  node_.OnShutdown([this] { ShutDown(); });
  if (sleeper_) {
    node_.OnAccepting([this] { sleeper_->OnReady(); });
    node_.OnExit([this] { sleeper_->OnPostgresExit(); });
  }
  node_.OnReady([this] {
    backups_.OnPostgresReady();
    if (cluster_) cluster_->Refresh();
    if (!start_pages_released_) {
      // Much of what start-up ran (validation, initdb or clone, TLS set-up) never runs
      // again: its code need not stay resident; what keeps running comes back on its own.
      start_pages_released_ = true;
      auto released = ReleaseIdleMemory();
      if (!released.ok()) spdlog::debug("{}", released.status().message());
    }
  });
  backups_.Start();
  Status started = node_.Start(loop_, exits_, supervisor_, std::move(postgres_args_),
                               [this](const std::string& reason) {
                                 spdlog::critical("giving up: {}", reason);
                                 exit_code_ = 1;
                                 loop_.Quit();
                               });
  if (!started.ok()) {
    spdlog::critical("{}", started.message());
    return stop(1);
  }
  if (cluster_) cluster_->Start();
}

void Runtime::OnSignals(SignalSource& signals) {
  for (int sig : signals.ReadPending()) {
    if (sig == SIGCHLD) {
      for (auto [pid, ws] : ReapExited()) {
        if (watchdog_ && watchdog_->OnChildExit(pid, ws)) {
          OnWatchdogExit(ws);
          continue;
        }
        if (!exits_.OnChildExit(pid, ws) && !supervisor_.OnChildExit(pid, ws))
          backups_.OnChildExit(pid, ws);
      }
    } else if (starting_up_) {
      // Nothing runs yet that a reload or a shutdown would reach: a termination signal ends
      // the start-up's running step (its command's process group is stopped) and pgrt exits.
      if (!IsTerminationSignal(sig) || cancel_.cancelled()) continue;
      startup_signal_ = sig;
      cancel_.Cancel("interrupted by signal " + std::to_string(sig));
    } else if (sig == SIGTERM || sig == SIGINT) {
      RequestShutdown(SIGINT, sig == SIGTERM ? "SIGTERM received" : "SIGINT received");
    } else if (sig == SIGQUIT) {
      RequestShutdown(SIGQUIT, "SIGQUIT received");
    } else if (sig == SIGHUP) {
      node_.Reload();  // postgres and PgBouncer
      // A reload also looks at the certificate files at once (runtime/tls.cc).
      if (postgres_tls_) postgres_tls_->Check();
      if (api_tls_) api_tls_->Check();
    }
  }
}

void Runtime::RequestShutdown(int pg_signal, const char* why) {
  if (stopping_ && pg_signal != SIGQUIT) return;
  stop_signal_ = pg_signal;
  if (stopping_) {  // SIGQUIT while a fast shutdown runs: make it immediate
    spdlog::info("shutting down (immediate)");
    backups_.Stop(true, [this] { node_.Shutdown(SIGQUIT, [this] { loop_.Quit(); }); });
    return;
  }
  stopping_ = true;
  node_.RequestStop(why);
}

void Runtime::ShutDown() {
  // A running backup or dump stops first (cleanly, or at once for SIGQUIT), then PgBouncer
  // and postgres, then the loop.
  const bool immediate = stop_signal_ == SIGQUIT;
  spdlog::info("shutting down ({})", immediate ? "immediate" : "fast");
  backups_.Stop(immediate, [this] {
    node_.Shutdown(stop_signal_ == SIGQUIT ? SIGQUIT : SIGINT, [this] {
      if (!cluster_) return loop_.Quit();
      // postgres has stopped taking writes: the leader key can go now, so another node
      // takes over at once instead of after the lease's TTL.
      cluster_->Resign([this] { loop_.Quit(); });
      loop_.AddTimer(kEtcdTimeout * 2, [this] { loop_.Quit(); });  // etcd may be gone
    });
  });
}

Task<Result<Topology>> Runtime::DecideClusterBoot() {
  auto data = InspectDataDir(ctx_.layout);
  if (!data.ok()) co_return data.status();
  const bool has_data = *data == DataDirState::kInitialized || *data == DataDirState::kReadyToMove;
  // Named, not a temporary of the co_await's expression (GCC 12: see process/task.h).
  std::function<void(std::function<void(BootDecision)>)> ask =
      [this, has_data](std::function<void(BootDecision)> resolve) {
        cluster_->DecideBoot(has_data, std::move(resolve), [this](const std::string& waiting) {
          if (state_.message() != waiting) spdlog::info("ha: {}", waiting);
          state_.SetMessage(waiting);
        });
      };
  Result<BootDecision> decision =
      co_await AwaitCallback<BootDecision>(tasks_, std::move(ask), "the cluster's decision");
  if (!decision.ok()) co_return decision.status().Wrap("ha");
  state_.SetMessage("");
  spdlog::info("ha: {}", decision->why);
  const std::optional<Member>& l = decision->leader;
  switch (decision->kind) {
    case BootKind::kInitialize:
      co_return Writable(ReplicationMode::kPrimary);
    case BootKind::kClone:
      co_return ReplicaOf({l->host, l->port, ""});
    case BootKind::kJoin:
      if (l) co_return ReplicaOf({l->host, l->port, ""});
      co_return ReplicaOf({});
  }
  co_return Status::Error("ha: unknown boot decision");
}

Member Runtime::Self() const {
  const Observation o = state_.observation();
  const std::string host = config_.advertise_host.empty() ? HostName() : config_.advertise_host;
  Member m;
  m.name = NodeName(config_);
  m.host = host;
  m.port = config_.port;
  m.application_name = ReplicaApplicationName(config_, m.name);
  m.api_url = "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
              std::to_string(config_.api_port);
  m.state = ToString(state_.phase());
  m.ready = state_.ready() && o.role != PgRole::kUnknown;
  m.role = !m.ready ? "unknown" : o.role == PgRole::kPrimary ? "primary" : "replica";
  m.timeline = o.timeline;
  auto lsn = [](const std::optional<std::string>& s) {
    return s ? ParseLsn(*s).value_or(0) : uint64_t{0};
  };
  m.lsn = o.role == PgRole::kPrimary ? lsn(o.current_lsn)
                                     : std::max(lsn(o.receive_lsn), lsn(o.replay_lsn));
  m.checkpointed = !state_.checkpoint_pending();
  m.rewind_needed = node_.rewind_needed();
  return m;
}

bool Runtime::MayWrite() const {
  // The node that made the cluster is writable before it first leads: while no one leads,
  // no other node can be a primary. Any other writable node must hold the leader key.
  if (!cluster_ || cluster_->leading()) return true;
  return !led_ && cluster_->leader().empty();
}

Status Runtime::StartWatchdog() {
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return ErrnoStatus("fence watchdog: /proc/self/exe");
  auto dog = FenceWatchdog::Start(std::string(exe, static_cast<size_t>(n)), ctx_.run_as);
  if (!dog.ok()) return dog.status();
  watchdog_ = std::move(*dog);
  return Status::Ok();
}

void Runtime::OnWatchdogExit(int wait_status) {
  if (stopping_) return;
  // Killed from outside (the OOM killer, an operator): a leader without it would keep
  // taking writes through a freeze of pgrt. A new one, told the current deadline.
  spdlog::warn("ha: the fence watchdog {}: starting it again", DescribeWaitStatus(wait_status));
  if (Status st = StartWatchdog(); !st.ok()) {
    spdlog::error("ha: {}", st.message());
    return state_.SetMessage("the fence watchdog cannot run: " + st.message());
  }
  ArmFence();
}

void Runtime::ArmFence() {
  if (!watchdog_) return;
  const std::optional<SteadyTime> until = cluster_->lease_valid_until();
  const pid_t postmaster = state_.postgres_pid();
  if (!until || postmaster <= 0) return watchdog_->Disarm();
  // Later than pgrt's own fence (which demotes cleanly), earlier than the lease's end.
  watchdog_->Arm(postmaster, *until + cluster_->fence_margin() / 2);
}

void Runtime::SteerByCluster() {
  if (stopping_) return;
  if (cluster_->leading() && !handing_over_.empty())
    return node_.SteerTo(ReplicaOf({}), "switchover to " + handing_over_ + ": handing over");
  if (cluster_->leading()) {
    led_ = true;
    return node_.SteerTo(Writable(ReplicationMode::kPrimary), "this node holds the leader key");
  }
  const std::optional<Member> l = cluster_->LeaderMember();
  // A leader is followed once it runs as a primary and has made its first checkpoint after
  // the promotion: pg_rewind reads its timeline from its control file, and a replica may turn
  // out to need a rewind only when it asks where the leader's timeline forked.
  if (l && l->name != NodeName(config_) && l->role == "primary" && l->ready && l->checkpointed)
    return node_.SteerTo(ReplicaOf({l->host, l->port, ""}), "following the leader " + l->name);
  // A writable node that may not write stops taking writes at once (fenced). A replica keeps
  // following what it follows until the next leader is known.
  const bool writable = !node_.applied().replica() || !node_.desired_topology().replica();
  if (writable && !MayWrite())
    node_.SteerTo(ReplicaOf({}),
                  cluster_->leader().empty()
                      ? "no leader key: this node stops taking writes"
                      : cluster_->leader() + " leads: this node stops taking writes");
}

}  // namespace pgrt
