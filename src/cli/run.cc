// `pgrt run`: validates the environment, drops what must not reach children, and hands
// over to the Runtime (runtime/runtime.h), which owns everything that runs.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "cli/commands.h"
#include "config/config.h"
#include "process/environment.h"
#include "process/signals.h"
#include "runtime/runtime.h"
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
  Runtime runtime(*config, *creds, ScrubbedEnvironment(env, *creds), clock, timings);
  return runtime.Run(*signals, postgres_args) == 0 ? kExitOk : kExitFailure;
}

}  // namespace pgrt
