#include "pgdata/postgres_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "pgdata/orphans.h"
#include "util/fs.h"
#include "util/unique_fd.h"

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

}  // namespace

SpawnSpec PostgresSpawnSpec(const NodeContext& ctx, const std::string& datadir,
                            const std::vector<std::string>& extra_args) {
  SpawnSpec spec;
  spec.name = "postgres";
  spec.argv = {ctx.Bin("postgres"), "-D", datadir};
  spec.argv.insert(spec.argv.end(), extra_args.begin(), extra_args.end());
  spec.env = ctx.child_env;
  spec.run_as = ctx.run_as;
  spec.cwd = datadir;
  return spec;
}

std::string PostmasterStatus(const std::string& datadir, pid_t pid) {
  auto text = ReadFile(JoinPath(datadir, "postmaster.pid"));
  if (!text.ok() || Line(*text, 0) != std::to_string(pid)) return "";
  return Line(*text, 7);
}

Status ClearStaleLockFile(const std::string& path, const std::string& datadir, uid_t owner) {
  auto text = ReadFile(path);
  if (!text.ok()) return Status::Ok();  // no lock file: nothing to clear
  std::optional<LockFileFacts> facts = ParseLockFile(*text);
  // Unreadable: postgres itself decides (it reports a clear error). A socket's lock file of
  // another data directory is another cluster's: postgres refuses to share the socket.
  if (!facts || PostmasterRuns(*facts, datadir, owner)) return Status::Ok();
  if (facts->datadir != datadir && path != JoinPath(datadir, "postmaster.pid")) return Status::Ok();
  spdlog::warn("removing stale {} (pid {} is not a postmaster of this PGDATA)", path,
               facts->postmaster);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("remove " + path);
  return Status::Ok();
}

Status WritePromoteSignalFile(const NodeContext& ctx) {
  const std::string path = JoinPath(ctx.layout.pgdata, "promote");
  // O_NOFOLLOW: PGDATA is the run-as account's, a link there must not lead root elsewhere.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return ErrnoStatus("create " + path);
  if (::geteuid() == 0 && ::fchown(fd.get(), ctx.run_as.uid, ctx.run_as.gid) != 0)
    return ErrnoStatus("chown " + path);
  return Status::Ok();
}

}  // namespace pgrt
