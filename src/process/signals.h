// Signals as events: the process-wide signal mask is set once, before any thread starts,
// and the signals arrive through a signalfd that the event loop (or a synchronous wait
// during bootstrap) reads. Also reaps every exited child, including orphans pgrt inherits
// as PID 1 or as a child subreaper.
#pragma once

#include <sys/types.h>

#include <utility>
#include <vector>

#include "util/status.h"
#include "util/unique_fd.h"

namespace pgrt {

class SignalSource {
 public:
  // Blocks SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2 for the whole process
  // (call before starting threads), ignores SIGPIPE, makes pgrt a child subreaper, and
  // opens the signalfd.
  static Result<SignalSource> Install();

  int fd() const { return fd_.get(); }
  // Signals delivered since the last call (non-blocking).
  std::vector<int> ReadPending();

 private:
  explicit SignalSource(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// Reaps every exited child without blocking: (pid, wait status) pairs.
std::vector<std::pair<pid_t, int>> ReapExited();

bool IsTerminationSignal(int sig);

}  // namespace pgrt
