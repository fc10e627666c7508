// What a task on the loop (process/task.h) waits for: a pause, a condition polled every
// step, a child's exit, blocking work on a thread of its own, or any callback-style call.
// Each is a loop event: a timer, the exit ChildExits routes, a closure posted back by a
// thread. Every one ends early with an error when the TaskContext's CancelToken is
// cancelled (a termination signal), and is refused once it is: a task then unwinds through
// its ordinary error paths. Running a command to completion is in process/command.h.
#pragma once

#include <coroutine>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "process/cancel.h"
#include "process/child_exits.h"
#include "process/event_loop.h"
#include "process/task.h"

namespace pgrt {

// The loop a task runs on, the exits it reaps and the token that cancels its waits. Owned
// by the runtime (or a test); a task holds it by reference.
struct TaskContext {
  EventLoop& loop;
  ChildExits& exits;
  CancelToken& cancel;
};

// The first of several events resumes the task with its value; later ones are dropped.
// Lives in the awaiting frame; the callbacks that fire it are registrations held beside it.
template <typename T>
class Pending {
 public:
  bool await_ready() const noexcept { return value_.has_value(); }
  void await_suspend(std::coroutine_handle<> h) noexcept { waiting_ = h; }
  T await_resume() { return std::move(*value_); }
  bool fired() const { return value_.has_value(); }
  // Resumes the task, which may destroy this object: nothing here is touched afterwards.
  void Fire(T v) {
    if (value_) return;
    value_.emplace(std::move(v));
    if (std::coroutine_handle<> h = std::exchange(waiting_, {})) h.resume();
  }

 private:
  std::optional<T> value_;
  std::coroutine_handle<> waiting_;
};

// A loop timer cancelled when the object goes.
class ScopedTimer {
 public:
  ScopedTimer(EventLoop& loop, Millis delay, EventLoop::Callback cb)
      : loop_(loop), id_(loop.AddTimer(delay, std::move(cb))) {}
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;
  ~ScopedTimer() { loop_.CancelTimer(id_); }

 private:
  EventLoop& loop_;
  EventLoop::TimerId id_;
};

// What ends a wait early besides its own event: its timeout (0: none; "<what>: timed
// out") and a cancelled start-up. Either fires `pending`; both are disarmed with this object.
class WaitBounds {
 public:
  WaitBounds(const TaskContext& tc, Pending<Status>& pending, Millis timeout,
             const std::string& what)
      : on_cancel_(
            tc.cancel.OnCancel([&pending, &tc, &what] { pending.Fire(tc.cancel.Error(what)); })) {
    if (timeout.count() > 0)
      timer_.emplace(tc.loop, timeout, [&pending, &what] {
        pending.Fire(Status::DeadlineExceeded(what + ": timed out"));
      });
  }

 private:
  CancelToken::Registration on_cancel_;
  std::optional<ScopedTimer> timer_;
};

// Resumes after `delay`; fails (`what`: interrupted ...) when cancelled first.
Task<Status> Sleep(const TaskContext& tc, Millis delay, std::string what);

// Until `done()` is true (looked at first, then every `step`); fails on `timeout` ("<what>:
// timed out") or cancellation.
Task<Status> PollUntil(const TaskContext& tc, std::function<bool()> done, Millis timeout,
                       Millis step, std::string what);

// The wait status of `child` (started elsewhere: a temporary server) once it exits. Fails
// on `timeout` (0: none) or cancellation, leaving the child running (its owner's destructor
// kills and reaps it).
Task<Result<int>> WaitExit(const TaskContext& tc, LoopChild& child, Millis timeout);

// Runs blocking `work` (synchronous libpq, a syncfs) on a thread of its own; its status
// comes back as a closure posted to the loop, which resumes the task on the loop's thread.
// On `timeout` (0: none) or cancellation the task goes on without waiting for the work,
// whose late result is dropped: `work` owns (captures by value) everything it touches.
Task<Status> OffThread(const TaskContext& tc, std::function<Status()> work, Millis timeout,
                       std::string what);

// Bridges a callback-style call: `start` gets a `resolve` function and arranges for it to
// be called once with the outcome (later, on the loop). Fails on cancellation; a `resolve`
// called after the task went on or was destroyed does nothing.
template <typename T>
Task<Result<T>> AwaitCallback(const TaskContext& tc,
                              std::function<void(std::function<void(T)> resolve)> start,
                              std::string what) {
  if (tc.cancel.cancelled()) co_return tc.cancel.Error(what);
  // Shared with `resolve`, which may outlive this frame. The value waits beside the
  // Pending rather than in it: GCC 12 warns (falsely) about a Result<int> moved through it.
  struct Slot {
    Pending<Status>* pending = nullptr;
    std::optional<T> value;
  };
  auto slot = std::make_shared<Slot>();
  Pending<Status> pending;
  slot->pending = &pending;
  struct Clear {  // the frame is leaving: a late `resolve` must not reach it
    std::shared_ptr<Slot> slot;
    ~Clear() { slot->pending = nullptr; }
  } clear{slot};
  WaitBounds bounds(tc, pending, Millis(0), what);
  start([slot](T value) {
    if (slot->pending == nullptr || slot->value) return;
    slot->value.emplace(std::move(value));
    slot->pending->Fire(Status::Ok());
  });
  Status resolved = co_await pending;
  if (!resolved.ok()) co_return resolved;
  co_return std::move(*slot->value);
}

}  // namespace pgrt
