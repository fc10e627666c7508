#include "process/child_exits.h"

namespace pgrt {

ChildExits::Watch ChildExits::Expect(pid_t pid, std::function<void(int)> on_exit) {
  watched_[pid] = std::move(on_exit);
  return Watch(&watched_, pid);
}

bool ChildExits::OnChildExit(pid_t pid, int wait_status) {
  auto it = watched_.find(pid);
  if (it == watched_.end()) return false;
  // Out of the map before it runs: it may resume a task that destroys the watch.
  std::function<void(int)> cb = std::move(it->second);
  watched_.erase(it);
  cb(wait_status);
  return true;
}

Result<LoopChild> LoopChild::Spawn(ChildExits& exits, const SpawnSpec& spec) {
  auto child = Child::Spawn(spec);
  if (!child.ok()) return child.status();
  auto state = std::make_unique<State>(std::move(*child));
  State* s = state.get();
  // Registered before the loop turns again, so its SIGCHLD cannot be reaped unseen.
  ChildExits::Watch watch = exits.Expect(s->child.pid(), [s](int wait_status) {
    s->child.MarkExited(wait_status);
    if (s->on_exit) std::exchange(s->on_exit, nullptr)();
  });
  return LoopChild(std::move(state), std::move(watch));
}

}  // namespace pgrt
