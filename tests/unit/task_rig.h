// Shared by the task tests: a real EventLoop with the signals as loop events, as the
// runtime has them: SIGCHLD reaps and hands exits to ChildExits, a termination signal
// cancels the CancelToken. SignalSource::Install blocks the handled signals for the whole
// test process and makes it a child subreaper (as in supervisor_test.cc), which is what lets
// a test send SIGTERM to itself: it arrives on the signalfd instead of killing the binary.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <functional>
#include <optional>
#include <string>

#include "process/awaitables.h"
#include "process/signals.h"
#include "process/task.h"
#include "util/clock.h"

namespace pgrt::test {

class TaskRig {
 public:
  TaskRig() {
    auto signals = SignalSource::Install();
    EXPECT_TRUE(signals.ok()) << signals.status().message();
    signals_.emplace(std::move(*signals));
    signals_->ReadPending();  // a stale SIGCHLD of an earlier test is no news here
    EXPECT_TRUE(loop.Init().ok());
    EXPECT_TRUE(loop.Watch(signals_->fd(), [this] { OnSignals(); }).ok());
  }
  ~TaskRig() { loop.Unwatch(signals_->fd()); }

  // Starts `task` and runs the loop until it finishes; nullopt when `limit` passed first
  // (the task is destroyed then).
  template <typename T>
  std::optional<T> Run(Task<T> task, Millis limit = Millis(10000)) {
    std::optional<T> out;
    TaskHandle handle = StartTask<T>(std::move(task), [this, &out](T v) {
      out.emplace(std::move(v));
      loop.Post([this] { loop.Quit(); });
    });
    if (!out) {
      EventLoop::TimerId guard = loop.AddTimer(limit, [this] { loop.Quit(); });
      EXPECT_TRUE(loop.Run().ok());
      loop.CancelTimer(guard);
    } else {
      TurnFor(Millis(0));  // the posted Quit
    }
    return out;
  }

  // Runs the loop for `d`.
  void TurnFor(Millis d) {
    loop.AddTimer(d, [this] { loop.Quit(); });
    EXPECT_TRUE(loop.Run().ok());
  }

  RealClock clock;
  EventLoop loop{clock};
  ChildExits exits;
  CancelToken cancel;
  TaskContext tc{loop, exits, cancel};
  int reaped_elsewhere = 0;  // exits nobody expected

 private:
  void OnSignals() {
    for (int sig : signals_->ReadPending()) {
      if (sig == SIGCHLD) {
        for (auto [pid, ws] : ReapExited())
          if (!exits.OnChildExit(pid, ws)) ++reaped_elsewhere;
      } else if (IsTerminationSignal(sig)) {
        cancel.Cancel("interrupted by signal " + std::to_string(sig));
      }
    }
  }
  std::optional<SignalSource> signals_;
};

}  // namespace pgrt::test
