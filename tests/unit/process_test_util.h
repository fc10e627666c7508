// Shared by the process-layer unit tests: bounded waits for processes and for the loop.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "process/child.h"
#include "process/event_loop.h"

namespace pgrt::process_test {

// True once no process `pid` is left; reaps it when it came to this (subreaper) process.
inline bool GoneWithin(pid_t pid, Millis limit = Millis(2000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    ::waitpid(pid, nullptr, WNOHANG);  // ECHILD when not ours: nothing to reap
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::this_thread::sleep_for(Millis(2));
  }
  return false;
}

// `/bin/sh -c script` with only PATH in its environment.
inline SpawnSpec Sh(const std::string& script) {
  SpawnSpec spec;
  spec.name = "sh";
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  return spec;
}

// Runs `loop` until something quits it; false when `limit` passed first.
inline bool RunLoopAtMost(EventLoop& loop, Millis limit) {
  bool timed_out = false;
  EventLoop::TimerId guard = loop.AddTimer(limit, [&] {
    timed_out = true;
    loop.Quit();
  });
  Status st = loop.Run();
  EXPECT_TRUE(st.ok()) << st.message();
  loop.CancelTimer(guard);
  return !timed_out;
}

}  // namespace pgrt::process_test
