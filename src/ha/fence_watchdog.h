// FenceWatchdog: the leader's fence when pgrt itself cannot act. A leader that cannot renew
// its lease demotes on its own (ha/election.h), but a pgrt that is frozen (SIGSTOP, a stalled
// VM thread, swap) does nothing while its postgres keeps taking writes and the lease runs
// out: another node is promoted and two primaries accept writes. So the leader hands a
// deadline to a small process of its own (`pgrt fence-watchdog`, reading a pipe): while
// pgrt keeps renewing, it keeps moving the deadline; when the deadline passes, the watchdog
// freezes the postmaster, kills its children and it (SIGKILL), before the lease can end.
//
// The deadline is on CLOCK_MONOTONIC (std::chrono::steady_clock), shared by both processes.
// The watchdog dies with pgrt (PR_SET_PDEATHSIG), as postgres does.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "process/child.h"
#include "process/user.h"
#include "util/clock.h"
#include "util/status.h"
#include "util/unique_fd.h"

namespace pgrt {

class FenceWatchdog {
 public:
  // Starts `exe fence-watchdog` as `run_as` (the account postgres runs as: it may signal it).
  static Result<std::unique_ptr<FenceWatchdog>> Start(const std::string& exe,
                                                      std::optional<Credentials> run_as);
  ~FenceWatchdog() = default;

  // Kill `postmaster` (and its children) unless re-armed or disarmed before `deadline`.
  void Arm(pid_t postmaster, SteadyTime deadline);
  void Disarm();
  // Reaping: true when `pid` was the watchdog.
  bool OnChildExit(pid_t pid, int wait_status);
  bool running() const { return child_.running(); }

 private:
  FenceWatchdog(Child child, UniqueFd pipe) : child_(std::move(child)), pipe_(std::move(pipe)) {}
  void Send(const std::string& line);

  Child child_;
  UniqueFd pipe_;  // write end, non-blocking
  std::string last_;
};

// The watchdog's own loop, reading commands from `fd` ("ARM <pid> <deadline ns>", "DISARM").
// After a fence it is disarmed and goes on; it returns its exit code once the pipe closed
// while disarmed.
int RunFenceWatchdog(int fd);

}  // namespace pgrt
