#include "ha/fence_watchdog.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <sstream>

#include "process/proc_children.h"

namespace pgrt {
namespace {

int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Frozen first, so it forks no new backend while its children are killed; then itself.
void Fence(pid_t postmaster) {
  ::kill(postmaster, SIGSTOP);
  for (pid_t child : ChildrenOf(postmaster)) ::kill(child, SIGKILL);
  ::kill(postmaster, SIGKILL);
  std::fprintf(stderr,
               "pgrt fence-watchdog: the leader's lease could not be renewed in time; "
               "postgres (pid %d) was killed so that it takes no more writes\n",
               static_cast<int>(postmaster));
}

}  // namespace

Result<std::unique_ptr<FenceWatchdog>> FenceWatchdog::Start(const std::string& exe,
                                                            std::optional<Credentials> run_as) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("fence watchdog: pipe");
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  SpawnSpec spec;
  spec.name = "fence-watchdog";
  spec.argv = {exe, "fence-watchdog"};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  spec.run_as = std::move(run_as);
  spec.stdin_fd = read_end.get();
  auto child = Child::Spawn(spec);
  if (!child.ok()) return child.status().Wrap("fence watchdog");
  // pgrt's loop never waits on it: a full pipe (a watchdog that stopped reading) drops a
  // command, and the last one is sent again with the next.
  ::fcntl(write_end.get(), F_SETFL, O_NONBLOCK);
  return std::unique_ptr<FenceWatchdog>(new FenceWatchdog(std::move(*child), std::move(write_end)));
}

void FenceWatchdog::Send(const std::string& line) {
  if (line == last_) return;
  if (::write(pipe_.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size()))
    last_ = line;
}

void FenceWatchdog::Arm(pid_t postmaster, SteadyTime deadline) {
  const int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  Send("ARM " + std::to_string(postmaster) + " " + std::to_string(ns) + "\n");
}

void FenceWatchdog::Disarm() { Send("DISARM\n"); }

bool FenceWatchdog::OnChildExit(pid_t pid, int wait_status) {
  if (pid != child_.pid()) return false;
  child_.MarkExited(wait_status);
  return true;
}

int RunFenceWatchdog(int fd) {
  pid_t postmaster = 0;
  int64_t deadline = 0;  // 0: disarmed
  bool open = true;
  std::string buffer;
  for (;;) {
    int timeout = -1;
    if (deadline != 0) {
      const int64_t left = deadline - MonotonicNs();
      if (left <= 0) {
        // Then on duty again, disarmed: the node may lead again later in this pgrt's life
        // (a watchdog that ended here left every later leadership without a fence).
        Fence(postmaster);
        deadline = 0;
        continue;
      }
      timeout = static_cast<int>((left + 999999) / 1000000);
    }
    if (!open && deadline == 0) return 0;  // pgrt is gone (or stopped cleanly) and disarmed
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(open ? &p : nullptr, open ? 1 : 0, timeout);
    if (n <= 0) continue;
    char chunk[512];
    ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got <= 0) {
      open = false;
      continue;
    }
    buffer.append(chunk, static_cast<size_t>(got));
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      std::istringstream line(buffer.substr(0, nl));
      buffer.erase(0, nl + 1);
      std::string verb;
      line >> verb;
      if (verb == "DISARM") {
        deadline = 0;
      } else if (verb == "ARM") {
        long long pid = 0, ns = 0;
        if (line >> pid >> ns && pid > 1 && ns > 0) {
          postmaster = static_cast<pid_t>(pid);
          deadline = ns;
        }
      }
    }
  }
}

}  // namespace pgrt
