// Running one-shot commands (initdb, psql for init scripts, pg_basebackup) to completion
// while staying responsive to signals: a SIGTERM during a long clone stops the command
// and the caller gets an error that says so, instead of pgrt hanging until it ends.
#pragma once

#include <poll.h>

#include <functional>
#include <string>
#include <string_view>

#include "process/child.h"
#include "process/event_loop.h"
#include "process/signals.h"
#include "util/clock.h"

namespace pgrt {

struct CommandResult {
  int wait_status = 0;
  std::string output;  // stdout and stderr, interleaved, when captured
};

// Waits for synchronous work. Termination signals seen here are remembered so the caller
// (and later the event loop) knows a shutdown was asked for. Given the event loop, it runs
// the loop while it waits, so what already lives there (the HTTP API) keeps answering.
class Waiter {
 public:
  explicit Waiter(SignalSource& signals, EventLoop* loop = nullptr)
      : signals_(signals), loop_(loop) {}

  // Runs spec to completion. capture: collect stdout+stderr (else inherited).
  // Fails when the command cannot start, when `timeout` passes, or on SIGTERM/SIGINT/SIGQUIT
  // (the command's process group gets SIGTERM, then SIGKILL after 5 s).
  // `on_output` (with capture) sees each piece of output as it arrives (progress reports).
  Result<CommandResult> Run(SpawnSpec spec, bool capture, Millis timeout = Millis(0),
                            const std::function<void(std::string_view)>& on_output = nullptr);

  // Polls `done` every `step` until it returns true; fails on timeout or a termination signal.
  // A `watched` child that exits meanwhile is marked exited (so `done` can notice).
  Status WaitUntil(const std::function<bool()>& done, Millis timeout, Millis step,
                   const std::string& what, Child* watched = nullptr);

  // Waits for an already-running child (started elsewhere) to exit, reaping as it goes.
  Result<int> WaitFor(Child& child, Millis timeout);

  // Runs blocking `work` (synchronous libpq, a syncfs) on a thread of its own and returns
  // its status, the loop turning meanwhile: on the loop's thread a connect to a server
  // that never answers would hold the API and the signals for its whole connect_timeout.
  // Fails on `timeout` (0: none) or a termination signal without waiting for the work, so
  // `work` must own (capture by value) everything it touches.
  Status RunOffThread(std::function<Status()> work, Millis timeout, const std::string& what);

  int termination_signal() const { return termination_signal_; }

 private:
  // Reads pending signals and reaps; returns false when termination was asked for.
  bool Drain(Child* watched);
  // poll(2), or the loop's events until one of `fds` is readable or the time is up.
  int Poll(pollfd* fds, int n, int timeout_ms);

  SignalSource& signals_;
  EventLoop* loop_;
  int termination_signal_ = 0;
};

// Throws away a command's output, keeping the last `max` bytes for error messages.
std::string Tail(const std::string& s, size_t max = 2000);

}  // namespace pgrt
