#include "process/awaitables.h"

#include <thread>

namespace pgrt {

Task<Status> Sleep(const TaskContext& tc, Millis delay, std::string what) {
  if (tc.cancel.cancelled()) co_return tc.cancel.Error(what);
  Pending<Status> pending;
  ScopedTimer timer(tc.loop, delay, [&pending] { pending.Fire(Status::Ok()); });
  WaitBounds bounds(tc, pending, Millis(0), what);
  co_return co_await pending;
}

Task<Status> PollUntil(const TaskContext& tc, std::function<bool()> done, Millis timeout,
                       Millis step, std::string what) {
  const SteadyTime deadline = tc.loop.clock().Now() + timeout;
  for (;;) {
    if (done()) co_return Status::Ok();
    if (tc.cancel.cancelled()) co_return tc.cancel.Error(what);
    if (tc.loop.clock().Now() >= deadline) co_return Status::DeadlineExceeded(what + ": timed out");
    Status paused = co_await Sleep(tc, step, what);
    if (!paused.ok()) co_return paused;
  }
}

Task<Result<int>> WaitExit(const TaskContext& tc, LoopChild& child, Millis timeout) {
  const std::string what = "wait for " + child.child().name();
  if (!child.running()) co_return *child.child().exit_status();
  if (tc.cancel.cancelled()) co_return tc.cancel.Error(what);
  Pending<Status> pending;  // Ok: it exited
  child.OnExit([&pending] { pending.Fire(Status::Ok()); });
  struct Forget {  // still running when this frame goes: nobody waits for it any more
    LoopChild& child;
    ~Forget() { child.OnExit(nullptr); }
  } forget{child};
  WaitBounds bounds(tc, pending, timeout, what);
  Status exited = co_await pending;
  if (!exited.ok()) co_return exited;
  co_return *child.child().exit_status();
}

Task<Status> OffThread(const TaskContext& tc, std::function<Status()> work, Millis timeout,
                       std::string what) {
  if (tc.cancel.cancelled()) co_return tc.cancel.Error(what);
  // Shared with the worker's posted closure, which may run after this frame is gone.
  struct Slot {
    Pending<Status>* pending = nullptr;
  };
  auto slot = std::make_shared<Slot>();
  Pending<Status> pending;
  slot->pending = &pending;
  struct Clear {
    std::shared_ptr<Slot> slot;
    ~Clear() { slot->pending = nullptr; }
  } clear{slot};
  WaitBounds bounds(tc, pending, timeout, what);
  // Poster(): a worker stuck past the loop's life drops its closure instead of posting.
  std::thread([post = tc.loop.Poster(), slot, work = std::move(work)] {
    auto st = std::make_shared<Status>(work());
    post([slot, st] {
      if (slot->pending != nullptr) slot->pending->Fire(std::move(*st));
    });
  }).detach();
  co_return co_await pending;
}

}  // namespace pgrt
