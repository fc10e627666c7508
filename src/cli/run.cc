// `pgrt run`: the node. Wires config → node → supervisor → API in dependency order.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "api/api.h"
#include "backup/manager.h"
#include "cli/commands.h"
#include "config/config.h"
#include "metrics/collector.h"
#include "node/node.h"
#include "pooler/pooler.h"
#include "process/environment.h"
#include "process/signals.h"
#include "util/log.h"

namespace pgrt {
namespace {

// Every API connection is a descriptor: the soft limit (often 1024) goes up to the hard one.
void RaiseOpenFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max) return;
  lim.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0)
    spdlog::warn("cannot raise the open file limit: {}", std::strerror(errno));
}

}  // namespace

int RunNodeCommand(const std::vector<std::string>& postgres_args) {
  RealClock clock;
  Timings timings(clock.Now());
  Environment env = ProcessEnvironment();
  auto config = LoadConfig(env);
  if (!config.ok()) {
    std::cerr << "pgrt: invalid configuration:\n" << config.status().message() << "\n";
    return kExitUsage;
  }
  ScrubSecretsFromProcessEnvironment();
  env = ProcessEnvironment();
  SetupLogging(config->log_format);
  for (const auto& name : config->unknown_variables)
    spdlog::warn("unknown variable {} is ignored", name);
  auto creds = ChildCredentials(config->run_as);
  if (!creds.ok()) {
    std::cerr << "pgrt: invalid configuration:\n" << creds.status().message() << "\n";
    return kExitUsage;
  }
  timings.EndPhase("validate", clock.Now());

  RaiseOpenFileLimit();
  // Before any thread exists: every thread inherits the blocked signal mask.
  auto signals = SignalSource::Install();
  if (!signals.ok()) {
    spdlog::critical("{}", signals.status().message());
    return kExitFailure;
  }

  EventLoop loop(clock);
  if (Status st = loop.Init(); !st.ok()) {
    spdlog::critical("{}", st.message());
    return kExitFailure;
  }
  NodeState state;
  state.Beat(clock.Now());
  NodeContext ctx{*config, NodeLayout::From(*config), *creds, ScrubbedEnvironment(env, *creds)};
  Node node(ctx, state, timings, clock);
  // pgrt's own round trips from the API, asynchronous with deadlines (pg/async_conn.h).
  LiveProbe probe(loop, ctx.LocalConn(config->db));
  AsyncPgConn control(loop, [&] {
    ConnParams p = ctx.LocalConn(config->db);
    p["application_name"] = "pgrt-control";
    return p;
  }());
  BackupManager backups(node.context(), state, loop);
  std::unique_ptr<Pooler> pooler;
  if (config->pgbouncer_enabled) {
    auto p = Pooler::Create(node.context());
    if (!p.ok()) {
      spdlog::critical("{}", p.status().message());
      return kExitFailure;
    }
    pooler = std::move(*p);
    node.SetPooler(pooler.get());
  }
  MetricsCollector metrics(
      {ctx.LocalConn(config->db),
       pooler ? std::optional<ConnParams>(pooler->ConsoleParams()) : std::nullopt},
      state, loop);
  // The API runs on the loop: what the node records after a control action runs there too.
  ApiContext api_ctx{*config, state, timings, probe, control, clock};
  api_ctx.after_control = [&node](ControlVerb verb, std::function<void()> then) {
    node.AfterControl(verb, std::move(then));
  };
  api_ctx.promote = [&node](std::string why, ApiContext::RoleDone done) {
    node.Promote(std::move(why), std::move(done));
  };
  api_ctx.follow = [&node](Upstream up, std::string why, ApiContext::RoleDone done) {
    node.Follow(std::move(up), std::move(why), std::move(done));
  };
  api_ctx.hibernate = [&node](std::string why, std::function<void(Mode)> done) {
    node.Hibernate(std::move(why), std::move(done));
  };
  api_ctx.wake = [&node](std::string why, std::function<void(Mode)> done) {
    node.Wake(std::move(why), std::move(done));
  };
  api_ctx.backups = &backups;
  api_ctx.metrics = &metrics;
  ApiServer api(api_ctx, loop);
  if (Status st = api.Start(config->api_address, config->api_port); !st.ok()) {
    spdlog::critical("{}", st.message());
    return kExitFailure;
  }
  spdlog::info("management API on {}:{}", config->api_address, config->api_port);

  // The loop's heartbeat (/liveness) beats from the start: start-up runs the loop too.
  std::function<void()> beat = [&] {
    state.Beat(clock.Now());
    loop.AddTimer(Millis(1000), beat);
  };
  beat();
  // The loop runs while start-up waits, so the API answers (503) from the first moment.
  Waiter waiter(*signals, &loop);
  if (Status st = node.Prepare(waiter); !st.ok()) {
    if (waiter.termination_signal() != 0) {
      spdlog::info("stopped during start-up by signal {}", waiter.termination_signal());
      return kExitOk;
    }
    spdlog::critical("{}", st.message());
    return kExitFailure;
  }

  Supervisor supervisor(loop);
  int exit_code = kExitOk;
  bool stopping = false;
  int stop_signal = SIGINT;
  // The controller's Shutdown action: a running backup or dump stops first (cleanly, or at
  // once for SIGQUIT), then PgBouncer and postgres, then the loop.
  node.OnShutdown([&] {
    spdlog::info("shutting down ({})", stop_signal == SIGQUIT ? "immediate" : "fast");
    backups.Stop(stop_signal == SIGQUIT, [&node, &loop, &stop_signal] {
      node.Shutdown(stop_signal, [&loop] { loop.Quit(); });
    });
  });
  auto shutdown = [&](int pg_signal, const char* why) {
    if (stopping && pg_signal != SIGQUIT) return;
    stop_signal = pg_signal;
    if (stopping) {  // SIGQUIT while a fast shutdown runs: make it immediate
      spdlog::info("shutting down (immediate)");
      backups.Stop(true, [&node, &loop] { node.Shutdown(SIGQUIT, [&loop] { loop.Quit(); }); });
      return;
    }
    stopping = true;
    node.RequestStop(why);
  };
  Status watch = loop.Watch(signals->fd(), [&] {
    for (int sig : signals->ReadPending()) {
      if (sig == SIGCHLD) {
        for (auto [pid, ws] : ReapExited())
          if (!supervisor.OnChildExit(pid, ws) && !node.OnChildExit(pid, ws))
            backups.OnChildExit(pid, ws);
      } else if (sig == SIGTERM || sig == SIGINT) {
        shutdown(SIGINT, sig == SIGTERM ? "SIGTERM received" : "SIGINT received");
      } else if (sig == SIGQUIT) {
        shutdown(SIGQUIT, "SIGQUIT received");
      } else if (sig == SIGHUP) {
        node.Reload();  // postgres and PgBouncer
      }
    }
  });
  if (!watch.ok()) {
    spdlog::critical("{}", watch.message());
    return kExitFailure;
  }

  node.OnReady([&backups] { backups.OnPostgresReady(); });
  backups.Start();
  Status started = node.Start(loop, supervisor, postgres_args, [&](const std::string& reason) {
    spdlog::critical("giving up: {}", reason);
    exit_code = kExitFailure;
    loop.Quit();
  });
  if (!started.ok()) {
    spdlog::critical("{}", started.message());
    return kExitFailure;
  }
  if (Status st = loop.Run(); !st.ok()) {
    spdlog::critical("{}", st.message());
    exit_code = kExitFailure;
  }
  api.Stop();
  spdlog::info("pgrt exits ({})", exit_code);
  return exit_code;
}

}  // namespace pgrt
