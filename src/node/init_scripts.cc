#include "node/init_scripts.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process/command.h"
#include "util/fs.h"

namespace pgrt {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool IsScript(const std::string& name) {
  return EndsWith(name, ".sql") || EndsWith(name, ".sql.gz") || EndsWith(name, ".sh");
}

}  // namespace

bool HasInitScripts(const NodeContext& ctx) {
  const std::string& dir = ctx.config.initdb_scripts;
  if (dir.empty() || !IsDirectory(dir)) return false;
  auto names = ListDirectory(dir);
  // Unreadable: RunInitScripts reports why, on the temporary server's path.
  if (!names.ok()) return true;
  for (const auto& name : *names)
    if (IsScript(name)) return true;
  return false;
}

Task<Status> RunInitScripts(const TaskContext& tc, const NodeContext& ctx, const TempServer& server,
                            const std::string& datadir) {
  const std::string& dir = ctx.config.initdb_scripts;
  if (dir.empty() || !IsDirectory(dir)) co_return Status::Ok();
  auto names = ListDirectory(dir);
  if (!names.ok()) co_return names.status().Wrap("init scripts");

  std::map<std::string, std::string> env = ctx.child_env;
  env["PGHOST"] = server.socket_dir();
  env["PGPORT"] = std::to_string(server.port());
  env["PGUSER"] = ctx.config.user;
  env["PGDATABASE"] = ctx.config.db;
  env["POSTGRES_USER"] = ctx.config.user;
  env["POSTGRES_DB"] = ctx.config.db;
  env["PGDATA"] = datadir;

  const std::string psql = ctx.Bin("psql") + " -v ON_ERROR_STOP=1 --no-psqlrc --quiet";
  for (const auto& name : *names) {
    std::string path = JoinPath(dir, name);
    SpawnSpec spec;
    spec.name = "init script " + name;
    spec.env = env;
    spec.run_as = ctx.run_as;
    spec.cwd = dir;
    if (EndsWith(name, ".sql")) {
      spec.argv = {ctx.Bin("psql"), "-v", "ON_ERROR_STOP=1", "--no-psqlrc", "--quiet", "-f", path};
    } else if (EndsWith(name, ".sql.gz")) {
      // A pipeline of two trusted programs; the path is quoted for the shell.
      spec.argv = {"/bin/bash", "-o", "pipefail", "-c",
                   "gzip -dc " + ShellQuote(path) + " | " + psql + " -f -"};
    } else if (EndsWith(name, ".sh")) {
      bool exec = ::access(path.c_str(), X_OK) == 0;
      spec.argv = {path};
      if (!exec) spec.argv = {"/bin/sh", path};
    } else {
      spdlog::info("init scripts: ignoring {}", name);
      continue;
    }
    spdlog::info("init scripts: running {}", name);
    auto result = co_await RunCommand(tc, spec, /*capture=*/true);
    if (!result.ok()) co_return result.status().Wrap("init script " + name);
    if (!result->output.empty()) spdlog::info("{}: {}", name, Tail(result->output));
    if (!ExitedCleanly(result->wait_status))
      co_return Status::Error("init script " + name + " " +
                              DescribeWaitStatus(result->wait_status) + ": " +
                              Tail(result->output));
  }
  co_return Status::Ok();
}

}  // namespace pgrt
