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
  DbProbe db(ctx.LocalConn(config->db));
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
      state, clock);
  // The API runs on the loop: what the node records after a control action runs there too.
  auto after_control = [&node](ControlVerb verb) { node.AfterControl(verb); };
  ApiContext api_ctx{*config, state, timings, db, clock, after_control, &backups};
  api_ctx.metrics = &metrics;
  ApiServer api(api_ctx, loop);
  if (Status st = api.Start(config->api_address, config->api_port); !st.ok()) {
    spdlog::critical("{}", st.message());
    return kExitFailure;
  }
  spdlog::info("management API on {}:{}", config->api_address, config->api_port);

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
  auto shutdown = [&](int pg_signal) {
    if (stopping && pg_signal != SIGQUIT) return;
    stopping = true;
    spdlog::info("shutting down ({})", pg_signal == SIGQUIT ? "immediate" : "fast");
    // A running backup or dump stops first (cleanly, or at once for SIGQUIT), then postgres.
    backups.Stop(pg_signal == SIGQUIT,
                 [&node, &loop, pg_signal] { node.Shutdown(pg_signal, [&loop] { loop.Quit(); }); });
  };
  Status watch = loop.Watch(signals->fd(), [&] {
    for (int sig : signals->ReadPending()) {
      if (sig == SIGCHLD) {
        for (auto [pid, ws] : ReapExited())
          if (!supervisor.OnChildExit(pid, ws)) backups.OnChildExit(pid, ws);
      } else if (sig == SIGTERM || sig == SIGINT) {
        shutdown(SIGINT);
      } else if (sig == SIGQUIT) {
        shutdown(SIGQUIT);
      } else if (sig == SIGHUP) {
        node.Reload();  // postgres and PgBouncer
      }
    }
  });
  if (!watch.ok()) {
    spdlog::critical("{}", watch.message());
    return kExitFailure;
  }
  std::function<void()> beat = [&] {
    state.Beat(clock.Now());
    loop.AddTimer(Millis(1000), beat);
  };
  beat();

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
