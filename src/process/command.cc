#include "process/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "util/unique_fd.h"

namespace pgrt {

std::string Tail(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  return "…" + s.substr(s.size() - max);
}

bool Waiter::Drain(Child* watched) {
  for (int sig : signals_.ReadPending()) {
    if (IsTerminationSignal(sig) && termination_signal_ == 0) termination_signal_ = sig;
  }
  for (auto [pid, ws] : ReapExited()) {
    if (watched && pid == watched->pid()) watched->MarkExited(ws);
  }
  return termination_signal_ == 0;
}

int Waiter::Poll(pollfd* fds, int n, int timeout_ms) {
  if (loop_ == nullptr) return ::poll(fds, n, timeout_ms);
  // Level-triggered watches that do nothing but end the loop's wait; poll(2) with no
  // timeout then reports what is ready, as the plain poll would have.
  // A failed Watch (the loop watches that fd already) leaves the bounded timeout.
  for (int i = 0; i < n; ++i) loop_->Watch(fds[i].fd, [] {}).IgnoreError();
  loop_->RunOnce(Millis(timeout_ms)).IgnoreError();  // on failure the poll below still reports
  for (int i = 0; i < n; ++i) loop_->Unwatch(fds[i].fd);
  return ::poll(fds, n, 0);
}

Result<int> Waiter::WaitFor(Child& child, Millis timeout) {
  RealClock clock;
  SteadyTime deadline = clock.Now() + timeout;
  while (child.running()) {
    if (!Drain(&child))
      return Status::Error("interrupted by signal " + std::to_string(termination_signal_));
    if (!child.running()) break;
    if (timeout.count() > 0 && clock.Now() >= deadline) return Status::Error("timed out");
    pollfd p{signals_.fd(), POLLIN, 0};
    Poll(&p, 1, 50);  // SIGCHLD wakes us at once; 50 ms bounds a missed wake-up
  }
  return *child.exit_status();
}

Status Waiter::RunOffThread(std::function<Status()> work, Millis timeout, const std::string& what) {
  // Shared with the worker, which outlives this call after a signal or a timeout.
  struct Outcome {
    std::mutex mu;
    std::optional<Status> status;
    UniqueFd read_end, write_end;  // a byte once `status` is set: ends the wait below
  };
  auto outcome = std::make_shared<Outcome>();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return ErrnoStatus(what + ": pipe");
  outcome->read_end.reset(fds[0]);
  outcome->write_end.reset(fds[1]);
  std::thread([outcome, work = std::move(work)] {
    Status st = work();
    std::lock_guard<std::mutex> lock(outcome->mu);
    outcome->status = std::move(st);
    const char byte = 1;
    // Only wakes the wait, which also looks again within a second: a failed write is harmless.
    [[maybe_unused]] ssize_t n = ::write(outcome->write_end.get(), &byte, 1);
  }).detach();

  RealClock clock;
  SteadyTime deadline = clock.Now() + timeout;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(outcome->mu);
      if (outcome->status) return *outcome->status;
    }
    if (!Drain(nullptr))
      return Status::Error(what + ": interrupted by signal " + std::to_string(termination_signal_));
    Millis wait(1000);  // bounds a missed wake-up
    if (timeout.count() > 0) {
      SteadyTime now = clock.Now();
      if (now >= deadline) return Status::Error(what + ": timed out");
      wait = std::min(wait, std::chrono::ceil<Millis>(deadline - now));
    }
    pollfd p[2] = {{signals_.fd(), POLLIN, 0}, {outcome->read_end.get(), POLLIN, 0}};
    Poll(p, 2, static_cast<int>(wait.count()));
  }
}

Result<CommandResult> Waiter::Run(SpawnSpec spec, bool capture, Millis timeout,
                                  const std::function<void(std::string_view)>& on_output) {
  UniqueFd read_end, write_end;
  if (capture) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe");
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    spec.stdout_fd = write_end.get();
    spec.stderr_fd = write_end.get();
  }
  auto child = Child::Spawn(spec);
  if (!child.ok()) return child.status();
  write_end.reset();  // only the child writes now: EOF when it exits

  CommandResult result;
  RealClock clock;
  SteadyTime deadline = clock.Now() + timeout;
  bool interrupted = false;
  while (child->running() || read_end) {
    if (!Drain(&*child) && !interrupted) {
      interrupted = true;
      child->SignalGroup(SIGTERM).IgnoreError();  // best effort; SIGKILL follows on timeout
      timeout = Millis(5000);
      deadline = clock.Now() + timeout;
    }
    // Just reaped with the output already at EOF: done, no poll (that would idle 50 ms).
    if (!child->running() && !read_end) break;
    if (timeout.count() > 0 && clock.Now() >= deadline) {
      child->SignalGroup(SIGKILL).IgnoreError();  // the destructor reaps
      if (interrupted) break;
      return Status::Error(spec.name + ": timed out after " +
                           std::to_string(timeout.count() / 1000) + " s");
    }
    pollfd p[2] = {{signals_.fd(), POLLIN, 0}, {read_end.get(), POLLIN, 0}};
    int n = Poll(p, read_end ? 2 : 1, 50);
    if (n > 0 && read_end && (p[1].revents & (POLLIN | POLLHUP))) {
      char buf[4096];
      ssize_t got = ::read(read_end.get(), buf, sizeof buf);
      if (got > 0) {
        result.output.append(buf, static_cast<size_t>(got));
        if (on_output) on_output(std::string_view(buf, static_cast<size_t>(got)));
      } else if (got == 0 || errno != EINTR) {
        read_end.reset();
      }
    }
  }
  if (interrupted) {
    auto ws = child->Wait();  // reaps if the loop above left it running
    (void)ws;                 // the interruption is the error worth reporting
    return Status::Error(spec.name + ": interrupted by signal " +
                         std::to_string(termination_signal_));
  }
  result.wait_status = *child->exit_status();
  return result;
}

Status Waiter::WaitUntil(const std::function<bool()>& done, Millis timeout, Millis step,
                         const std::string& what, Child* watched) {
  RealClock clock;
  SteadyTime deadline = clock.Now() + timeout;
  for (;;) {
    if (done()) return Status::Ok();
    if (!Drain(watched))
      return Status::Error(what + ": interrupted by signal " + std::to_string(termination_signal_));
    if (clock.Now() >= deadline) return Status::Error(what + ": timed out");
    pollfd p{signals_.fd(), POLLIN, 0};
    Poll(&p, 1, static_cast<int>(step.count()));
  }
}

}  // namespace pgrt
