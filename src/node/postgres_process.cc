#include "node/postgres_process.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "backup/pgbackrest.h"
#include "util/fs.h"

namespace pgrt {
namespace {

std::string Line(const std::string& text, int index) {
  std::istringstream in(text);
  std::string line;
  for (int i = 0; i <= index; ++i) {
    if (!std::getline(in, line)) return "";
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

// Alive and not a zombie: /proc/PID/status says so ("kill -0" succeeds on zombies).
bool IsLivePostgres(pid_t pid) {
  auto status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  if (!status.ok()) return false;
  if (status->find("\nState:\tZ") != std::string::npos) return false;
  auto comm = ReadFile("/proc/" + std::to_string(pid) + "/comm");
  return comm.ok() && comm->rfind("postgres", 0) == 0;
}

}  // namespace

SpawnSpec PostgresSpawnSpec(const NodeContext& ctx, const std::string& datadir,
                            const std::vector<std::string>& extra_args) {
  SpawnSpec spec;
  spec.name = "postgres";
  spec.argv = {ctx.Bin("postgres"), "-D", datadir};
  spec.argv.insert(spec.argv.end(), extra_args.begin(), extra_args.end());
  spec.env = ctx.child_env;
  AddArchiveEnvironment(ctx.config, spec.env);  // archive_command runs pgBackRest
  spec.run_as = ctx.run_as;
  spec.cwd = datadir;
  return spec;
}

std::string PostmasterStatus(const std::string& datadir, pid_t pid) {
  auto text = ReadFile(JoinPath(datadir, "postmaster.pid"));
  if (!text.ok() || Line(*text, 0) != std::to_string(pid)) return "";
  return Line(*text, 7);
}

Status ClearStaleLockFile(const std::string& datadir) {
  std::string path = JoinPath(datadir, "postmaster.pid");
  auto text = ReadFile(path);
  if (!text.ok()) return Status::Ok();  // no lock file: nothing to clear
  pid_t pid = 0;
  try {
    pid = static_cast<pid_t>(std::stol(Line(*text, 0)));
  } catch (...) {
    pid = 0;  // unreadable: postgres itself decides (it reports a clear error)
  }
  if (pid <= 0 || IsLivePostgres(pid)) return Status::Ok();
  spdlog::warn("removing stale postmaster.pid (pid {} is not a running postgres)", pid);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("remove " + path);
  return Status::Ok();
}

}  // namespace pgrt
