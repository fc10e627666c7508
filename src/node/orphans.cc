#include "node/orphans.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <sstream>
#include <thread>

#include "util/fs.h"

namespace pgrt {
namespace {

// Parent pid and state from /proc/PID/stat ("pid (comm) S ppid ..."; comm may hold spaces).
bool ReadParentAndState(const std::string& pid, pid_t& ppid, char& state) {
  auto stat = ReadFile("/proc/" + pid + "/stat");
  if (!stat.ok()) return false;
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(stat->substr(close + 1));
  return static_cast<bool>(rest >> state >> ppid);
}

}  // namespace

std::vector<pid_t> OrphanedPostgresChildren() {
  std::vector<pid_t> out;
  auto entries = ListDirectory("/proc");
  if (!entries.ok()) return out;  // no /proc: nothing we could find anyway
  const pid_t self = ::getpid();
  for (const std::string& e : *entries) {
    if (e.empty() || !std::isdigit(static_cast<unsigned char>(e[0]))) continue;
    pid_t ppid = 0;
    char state = '?';
    if (!ReadParentAndState(e, ppid, state) || ppid != self || state == 'Z') continue;
    auto cmdline = ReadFile("/proc/" + e + "/cmdline");
    if (!cmdline.ok() || cmdline->rfind("postgres: ", 0) != 0) continue;
    out.push_back(static_cast<pid_t>(std::stol(e)));
  }
  return out;
}

Status KillOrphanedPostgresChildren(const Clock& clock, Millis timeout) {
  std::vector<pid_t> orphans = OrphanedPostgresChildren();
  if (orphans.empty()) return Status::Ok();
  spdlog::warn("killing {} processes left by the previous postmaster", orphans.size());
  const SteadyTime deadline = clock.Now() + timeout;
  while (!orphans.empty()) {
    for (pid_t pid : orphans) ::kill(pid, SIGKILL);  // ESRCH: gone meanwhile, as wanted
    if (clock.Now() >= deadline)
      return Status::Error("processes of the previous postmaster did not exit");
    std::this_thread::yield();  // SIGKILL takes effect within microseconds
    orphans = OrphanedPostgresChildren();
  }
  return Status::Ok();
}

}  // namespace pgrt
