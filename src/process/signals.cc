#include "process/signals.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <cerrno>

namespace pgrt {
namespace {
constexpr int kHandled[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2};
}

Result<SignalSource> SignalSource::Install() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kHandled) sigaddset(&set, s);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return ErrnoStatus("sigprocmask");
  ::signal(SIGPIPE, SIG_IGN);  // a client hanging up must be an error value, not death
  // Orphans of postgres (backends of a killed postmaster) come to us and get reaped.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return ErrnoStatus("prctl subreaper");
  UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return ErrnoStatus("signalfd");
  return SignalSource(std::move(fd));
}

std::vector<int> SignalSource::ReadPending() {
  std::vector<int> out;
  signalfd_siginfo info[8];
  for (;;) {
    ssize_t n = ::read(fd_.get(), info, sizeof info);
    if (n <= 0) break;  // EAGAIN: nothing more
    for (size_t i = 0; i < static_cast<size_t>(n) / sizeof info[0]; ++i)
      out.push_back(static_cast<int>(info[i].ssi_signo));
  }
  return out;
}

std::vector<std::pair<pid_t, int>> ReapExited() {
  std::vector<std::pair<pid_t, int>> out;
  for (;;) {
    int ws = 0;
    pid_t pid = ::waitpid(-1, &ws, WNOHANG);
    if (pid > 0) {
      out.emplace_back(pid, ws);
      continue;
    }
    if (pid < 0 && errno == EINTR) continue;
    break;  // 0: children left but none exited; ECHILD: no children
  }
  return out;
}

bool IsTerminationSignal(int sig) { return sig == SIGTERM || sig == SIGINT || sig == SIGQUIT; }

}  // namespace pgrt
