#include "runtime/runtime.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include "process/child.h"

namespace pgrt {
namespace {

constexpr Millis kHeartbeat{1000};

ConnParams ControlParams(const NodeContext& ctx) {
  ConnParams p = ctx.LocalConn(ctx.config.db);
  p["application_name"] = "pgrt-control";
  return p;
}

}  // namespace

Runtime::Runtime(const Config& config, Credentials run_as,
                 std::map<std::string, std::string> child_env, const Clock& clock, Timings& timings)
    : config_(config),
      clock_(clock),
      timings_(timings),
      loop_(clock),
      ctx_{config, NodeLayout::From(config), std::move(run_as), std::move(child_env)},
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
  if (config_.pgbouncer_enabled) {
    auto p = Pooler::Create(node_.context());
    if (!p.ok()) return p.status();
    pooler_ = std::move(*p);
    node_.SetPooler(pooler_.get());
  }
  metrics_ = std::make_unique<MetricsCollector>(
      MetricsSources{ctx_.LocalConn(config_.db),
                     pooler_ ? std::optional<ConnParams>(pooler_->ConsoleParams()) : std::nullopt},
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
    node_.Hibernate(std::move(why), std::move(done));
  };
  api.wake = [this](std::string why, std::function<void(Mode)> done) {
    node_.Wake(std::move(why), std::move(done));
  };
  api.backups = &backups_;
  api.metrics = metrics_.get();
  api_ = std::make_unique<ApiServer>(api, loop_);
  PGRT_RETURN_IF_ERROR(api_->Start(config_.api_address, config_.api_port), "management API");
  spdlog::info("management API on {}:{}", config_.api_address, config_.api_port);
  return Status::Ok();
}

void Runtime::Beat() {
  state_.Beat(clock_.Now());
  loop_.AddTimer(kHeartbeat, [this] { Beat(); });
}

int Runtime::Run(SignalSource& signals, std::vector<std::string> postgres_args) {
  if (Status st = Init(); !st.ok()) {
    spdlog::critical("{}", st.message());
    return 1;
  }
  // The loop's heartbeat (/liveness) beats from the start: start-up runs the loop too.
  Beat();
  // The loop runs while start-up waits, so the API answers (503) from the first moment.
  Waiter waiter(signals, &loop_);
  if (Status st = node_.Prepare(waiter); !st.ok()) {
    if (waiter.termination_signal() != 0) {
      spdlog::info("stopped during start-up by signal {}", waiter.termination_signal());
      return 0;
    }
    spdlog::critical("{}", st.message());
    return 1;
  }
  // The controller's Shutdown action.
  node_.OnShutdown([this] { ShutDown(); });
  if (Status st = loop_.Watch(signals.fd(), [this, &signals] { OnSignals(signals); }); !st.ok()) {
    spdlog::critical("{}", st.message());
    return 1;
  }
  node_.OnReady([this] { backups_.OnPostgresReady(); });
  backups_.Start();
  Status started =
      node_.Start(loop_, supervisor_, std::move(postgres_args), [this](const std::string& reason) {
        spdlog::critical("giving up: {}", reason);
        exit_code_ = 1;
        loop_.Quit();
      });
  if (!started.ok()) {
    spdlog::critical("{}", started.message());
    return 1;
  }
  if (Status st = loop_.Run(); !st.ok()) {
    spdlog::critical("{}", st.message());
    exit_code_ = 1;
  }
  api_->Stop();
  spdlog::info("pgrt exits ({})", exit_code_);
  return exit_code_;
}

void Runtime::OnSignals(SignalSource& signals) {
  for (int sig : signals.ReadPending()) {
    if (sig == SIGCHLD) {
      for (auto [pid, ws] : ReapExited())
        if (!supervisor_.OnChildExit(pid, ws) && !node_.OnChildExit(pid, ws))
          backups_.OnChildExit(pid, ws);
    } else if (sig == SIGTERM || sig == SIGINT) {
      RequestShutdown(SIGINT, sig == SIGTERM ? "SIGTERM received" : "SIGINT received");
    } else if (sig == SIGQUIT) {
      RequestShutdown(SIGQUIT, "SIGQUIT received");
    } else if (sig == SIGHUP) {
      node_.Reload();  // postgres and PgBouncer
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
    node_.Shutdown(stop_signal_ == SIGQUIT ? SIGQUIT : SIGINT, [this] { loop_.Quit(); });
  });
}

}  // namespace pgrt
