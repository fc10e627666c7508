// ChildExits: routes the exits the loop reaps (SIGCHLD on the signalfd, the runtime's
// ReapExited) to the task that owns the child. LoopChild is a child whose exit is recorded
// through it for as long as the object lives, so a task finds out at once, whether it was
// waiting for that exit or doing something else meanwhile (a temporary server that dies
// while init scripts run is noticed, not left for a later wait that would never end).
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "process/child.h"
#include "util/map_entry_handle.h"

namespace pgrt {

class ChildExits {
 public:
  // Forgets the pid when it goes.
  using Watch = MapEntryHandle<std::map<pid_t, std::function<void(int)>>>;

  ChildExits() = default;
  ChildExits(const ChildExits&) = delete;
  ChildExits& operator=(const ChildExits&) = delete;

  // `on_exit` runs (once, on the loop) with the wait status when `pid` is reaped.
  [[nodiscard]] Watch Expect(pid_t pid, std::function<void(int wait_status)> on_exit);
  // Called with every reaped child; true when one was expected.
  bool OnChildExit(pid_t pid, int wait_status);

 private:
  std::map<pid_t, std::function<void(int)>> watched_;
};

// A spawned child whose exit ChildExits records in it; `on_exit` (if set) runs right after.
// The destructor kills and reaps a child still running (Child's).
class LoopChild {
 public:
  static Result<LoopChild> Spawn(ChildExits& exits, const SpawnSpec& spec);

  Child& child() { return state_->child; }
  const Child& child() const { return state_->child; }
  pid_t pid() const { return state_->child.pid(); }
  bool running() const { return state_->child.running(); }
  // One callback at a time: the awaitable waiting for this exit.
  void OnExit(std::function<void()> cb) { state_->on_exit = std::move(cb); }

 private:
  struct State {
    explicit State(Child c) : child(std::move(c)) {}
    Child child;
    std::function<void()> on_exit;
  };
  LoopChild(std::unique_ptr<State> state, ChildExits::Watch watch)
      : state_(std::move(state)), watch_(std::move(watch)) {}
  // Declared first, destroyed last: the watch's callback refers to it.
  std::unique_ptr<State> state_;
  ChildExits::Watch watch_;
};

}  // namespace pgrt
