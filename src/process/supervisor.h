// Supervisor: keeps long-running children (postgres, pgbouncer) running. It knows nothing
// about PostgreSQL: a service is a spawn spec plus a restart policy.
//
// An unexpected exit kills what is left of the child's process group (orphaned helpers
// hold resources a restart needs), waits until the group is gone, then restarts after a
// backoff that grows with the crashes in the window. More than `max_restarts` crashes
// within `restart_window` → the service is given up and on_give_up says why.
#pragma once

#include <signal.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process/child.h"
#include "process/event_loop.h"

namespace pgrt {

struct ServiceSpec {
  SpawnSpec spawn;
  int stop_signal = SIGTERM;
  Millis stop_timeout{30000};  // then SIGKILL to the group
  int max_restarts = 5;
  Millis restart_window{60000};
  // Delay before the n-th restart within the window (the last entry repeats).
  std::vector<Millis> backoff = {Millis(0), Millis(100), Millis(500), Millis(1000), Millis(2000),
                                 Millis(5000)};
  // Runs before every start (e.g. clearing a stale lock file); an error counts as a crash.
  std::function<Status()> before_start;
};

struct ServiceEvents {
  std::function<void(pid_t)> on_start;
  std::function<void(int wait_status, bool expected)> on_exit;
  std::function<void(const std::string& reason)> on_give_up;
};

class Supervisor {
 public:
  explicit Supervisor(EventLoop& loop) : loop_(loop) {}
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  void Add(const std::string& name, ServiceSpec spec, ServiceEvents events);
  Status Start(const std::string& name);
  // Sends `sig` (0: the spec's stop signal) and calls `done` once the child has exited;
  // escalates to SIGKILL after the stop timeout. Done at once when not running.
  void Stop(const std::string& name, int sig, std::function<void()> done);
  // Forwards a signal (e.g. SIGHUP for a reload) to a running service.
  Status Signal(const std::string& name, int sig);

  // Called with every reaped child; returns whether it belonged to a service.
  bool OnChildExit(pid_t pid, int wait_status);

  std::optional<pid_t> pid(const std::string& name) const;
  int restarts(const std::string& name) const;

 private:
  struct Service {
    ServiceSpec spec;
    ServiceEvents events;
    std::optional<Child> child;
    std::vector<SteadyTime> crashes;  // within the window
    int restarts = 0;
    bool stopping = false;
    std::vector<std::function<void()>> on_stopped;
    EventLoop::TimerId stop_timer = 0;
    EventLoop::TimerId restart_timer = 0;
  };

  Service* Find(const std::string& name);
  const Service* Find(const std::string& name) const;
  void HandleCrash(const std::string& name, Service& s, const std::string& why);
  void Restart(const std::string& name);
  // Calls `then` once no process of group `pgid` is left (or after ~5 s of 2 ms checks).
  void WaitGroupGone(pid_t pgid, int attempts_left, std::function<void()> then);

  EventLoop& loop_;
  std::map<std::string, std::unique_ptr<Service>> services_;
};

}  // namespace pgrt
