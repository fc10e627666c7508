// The small subcommands: config, healthcheck, version, and the API clients.
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/local_api.h"
#include "config/config.h"
#include "config/value_rules.h"
#include "ha/fence_watchdog.h"
#include "process/command.h"
#include "util/fs.h"

namespace pgrt {

int ConfigCommand() {
  Environment env = ProcessEnvironment();
  auto config = LoadConfig(env);
  if (!config.ok()) {
    std::cerr << "pgrt: invalid configuration:\n" << config.status().message() << "\n";
    return kExitUsage;
  }
  std::cout << RenderEffectiveConfig(*config, env);
  for (const auto& name : config->unknown_variables)
    std::cerr << "pgrt: warning: unknown variable " << name << " is ignored\n";
  return kExitOk;
}

int ConfigReferenceCommand() {
  std::cout << RenderConfigReference();
  return kExitOk;
}

int ValueRulesReferenceCommand() {
  std::cout << RenderValueRulesReference();
  return kExitOk;
}

int HealthcheckCommand() {
  auto cli = LocalApi(ProcessEnvironment());
  auto res = cli.Get("/__opr/health");
  if (!res.ok()) {
    std::cerr << "pgrt healthcheck: API unreachable: " << res.status().message() << "\n";
    return kExitFailure;
  }
  if (res->status != 200) {
    std::cerr << "pgrt healthcheck: " << res->status << " " << res->body << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

int VersionCommand() {
  std::cout << "pgrt " << PGRT_VERSION << "\n";
  Environment env = ProcessEnvironment();
  std::string bindir = EnvOr(env, "PGRT_PG_BINDIR", PGRT_DEFAULT_PG_BINDIR);
  std::string postgres = JoinPath(bindir, "postgres");
  // Not through the node's machinery: a plain, short-lived read of `postgres --version`.
  std::string cmd = postgres + " --version 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    std::cout << "postgres: unavailable\n";
    return kExitFailure;
  }
  char buf[256];
  std::string out;
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  int rc = ::pclose(p);
  std::cout << (out.empty() ? "postgres: unavailable\n" : out);
  return rc == 0 ? kExitOk : kExitFailure;
}

std::string FollowBody(const std::string& host, int port, const std::optional<std::string>& slot) {
  nlohmann::json j = {{"host", host}, {"port", port}};
  if (slot) j["slot"] = *slot;
  return j.dump();
}

int ApiClientCommand(const std::string& verb, const std::string& body) {
  Environment env = ProcessEnvironment();
  // A promotion may take up to a minute; a follow that rewinds, as long as pg_rewind copies.
  const bool role = verb == "promote" || verb == "follow";
  auto cli = LocalApi(env, role ? 3600 : 10);
  Result<HttpAnswer> res = [&] {
    if (verb == "status") return cli.Get("/__opr/status");
    const bool lifecycle = verb == "hibernate" || verb == "wake";
    return cli.Request("POST", (lifecycle ? "/__opr/" : "/__opr/replication/") + verb,
                       {{"Authorization", "Bearer " + ApiToken(env)}}, body);
  }();
  if (!res.ok()) {
    std::cerr << "pgrt " << verb << ": API unreachable: " << res.status().message() << "\n";
    return kExitFailure;
  }
  std::cout << res->body << (res->body.empty() || res->body.back() != '\n' ? "\n" : "");
  return res->status >= 200 && res->status < 300 ? kExitOk : kExitFailure;
}

int FenceWatchdogCommand() { return RunFenceWatchdog(0); }

}  // namespace pgrt
