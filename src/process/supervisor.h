// Supervisor: keeps long-running children (postgres, pgbouncer) running. It knows nothing
// about PostgreSQL: a service is a spawn spec plus a restart policy.
//
// An unexpected exit kills what is left of the child's process group (orphaned helpers
// hold resources a restart needs), waits until the group is gone, then restarts after a
// backoff that grows with the crashes in the window. More than `max_restarts` crashes
// within `restart_window` → the service is given up and on_give_up says why.
//
// An exit during a lasting fault of the environment (its owner's `lasting_fault` names one:
// a full disk) is no crash loop: it is not counted, and restarts follow `fault_backoff`
// (capped) for as long as the fault lasts, so the service comes back by itself once the
// environment is fixed; RetryNow() cuts the wait short when the owner sees it fixed.
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
  std::vector<Millis> backoff = {Millis(0),    Millis(100),  Millis(500),
                                 Millis(1000), Millis(2000), Millis(5000)};
  // Runs before every start (e.g. ending what a previous run left behind). It may finish
  // later, from loop timers: the child is spawned once `done` is called with Ok; an error
  // counts as a crash. Nothing is spawned when the service was stopped meanwhile.
  using DoneCallback = std::function<void(Status)>;
  std::function<void(DoneCallback done)> before_start;
  // Asked after every unexpected exit or failed start: a lasting environmental fault that
  // explains it (nullopt: none, a crash like any other).
  std::function<std::optional<std::string>()> lasting_fault;
  // Delay before the n-th restart in a row during a lasting fault (the last entry repeats).
  std::vector<Millis> fault_backoff = {Millis(1000), Millis(2000), Millis(5000)};
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
  // Starts the service with a fresh crash count (restarts after a crash keep counting).
  Status Start(const std::string& name);
  // Sends `sig` (0: the spec's stop signal) and calls `done` once the child has exited;
  // escalates to SIGKILL after the stop timeout. Done at once when not running.
  void Stop(const std::string& name, int sig, std::function<void()> done);
  // Forwards a signal (e.g. SIGHUP for a reload) to a running service.
  Status Signal(const std::string& name, int sig);
  // A restart waiting for its backoff happens now (the fault that delayed it is gone).
  // No-op when none is pending.
  void RetryNow(const std::string& name);

  // Called with every reaped child; returns whether it belonged to a service.
  bool OnChildExit(pid_t pid, int wait_status);

  std::optional<pid_t> pid(const std::string& name) const;
  int restarts(const std::string& name) const;
  // Exits in a row that a lasting fault explained (reset by a crash it did not explain, and
  // by RetryNow).
  int fault_restarts(const std::string& name) const;

 private:
  struct Service {
    ServiceSpec spec;
    ServiceEvents events;
    std::optional<Child> child;
    std::vector<SteadyTime> crashes;  // within the window
    int restarts = 0;
    int faults = 0;  // exits in a row explained by a lasting fault
    bool stopping = false;
    bool preparing = false;  // before_start runs; the spawn follows its `done`
    uint64_t attempt = 0;    // tells a stale `done` (of a start stopped meanwhile) apart
    std::vector<std::function<void()>> on_stopped;
    EventLoop::TimerId stop_timer = 0;
    EventLoop::TimerId restart_timer = 0;
  };

  Service* Find(const std::string& name);
  const Service* Find(const std::string& name) const;
  Status Launch(const std::string& name);  // Start without forgetting the crashes
  Status Spawn(const std::string& name, Service& s);
  // before_start finished for start number `attempt`; `in_start`: still inside Start().
  Status AfterPrepare(const std::string& name, uint64_t attempt, Status prepared, bool in_start);
  void HandleCrash(const std::string& name, Service& s, const std::string& why);
  void Restart(const std::string& name);
  // Calls `then` once no process of group `pgid` is left (or after ~5 s of 2 ms checks).
  void WaitGroupGone(pid_t pgid, int attempts_left, std::function<void()> then);

  EventLoop& loop_;
  std::map<std::string, std::unique_ptr<Service>> services_;
};

}  // namespace pgrt
