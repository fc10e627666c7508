// Task<T>: a coroutine driven by the event loop. Work that waits (a child's exit, a timer,
// blocking work on a thread of its own) suspends the task and the loop resumes it when the
// event arrives, so a long sequence of steps (initdb, a temporary server, init scripts, a
// clone) reads top to bottom while the loop keeps serving the API, the heartbeat and the
// signals in between. Nothing here waits: a task only ever runs inside a loop callback.
//
// - Lazily started: calling a task function makes a suspended frame; `co_await` runs it, and
//   control passes straight to it and back (symmetric transfer: no stack grows with depth).
// - Errors are values: T is usually Status or Result<X>. Exceptions are not used; one that
//   escapes a task terminates, as anywhere else in pgrt.
// - A task is awaited where it is made (`co_await Step(args)`): reference parameters then
//   refer to the caller's frame, which lives until the step is done.
// - GCC 12 (Debian bookworm's) destroys twice a temporary made inside a co_await's
//   expression by a closure (`co_await OffThread(tc, [x] {...})`) or by the conditional
//   operator (`co_await Step(c ? a : b)`): a double free. Name such a value first and pass
//   it (with std::move); plain temporaries (`Step(std::string("x"))`) are not affected.
// - StartTask() starts a top-level task from the loop and calls `done` with its value. The
//   TaskHandle it returns owns the whole chain: destroying it while the task is suspended
//   destroys every frame in it, and with them what they own (timers, watches, children).
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <optional>
#include <utility>

namespace pgrt {

template <typename T>
class [[nodiscard]] Task {
 public:
  struct promise_type;
  using Handle = std::coroutine_handle<promise_type>;

  // At the end of a task, control passes to the one awaiting it (or back to the loop).
  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(Handle h) noexcept {
      std::coroutine_handle<> next = h.promise().continuation;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  struct promise_type {
    std::optional<T> value;
    std::coroutine_handle<> continuation;
    Task get_return_object() { return Task(Handle::from_promise(*this)); }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    FinalAwaiter final_suspend() const noexcept { return {}; }
    void return_value(T v) { value.emplace(std::move(v)); }
    void unhandled_exception() const noexcept { std::terminate(); }
  };

  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().continuation = caller;
    return h_;
  }
  T await_resume() { return std::move(*h_.promise().value); }

 private:
  explicit Task(Handle h) : h_(h) {}
  Handle h_;
};

// Owns a top-level task started by StartTask. Destroying it (or reset()) while the task is
// suspended destroys the task; after `done` ran it only frees the finished frame.
class TaskHandle {
 public:
  TaskHandle() = default;
  explicit TaskHandle(std::coroutine_handle<> h) : h_(h) {}
  TaskHandle(TaskHandle&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  TaskHandle& operator=(TaskHandle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  TaskHandle(const TaskHandle&) = delete;
  TaskHandle& operator=(const TaskHandle&) = delete;
  ~TaskHandle() { reset(); }
  void reset() {
    if (h_) std::exchange(h_, {}).destroy();
  }
  explicit operator bool() const { return static_cast<bool>(h_); }

 private:
  std::coroutine_handle<> h_;
};

namespace task_internal {

// The frame StartTask makes around a task: it awaits the task, then hands its value to
// `done` and stays suspended until its TaskHandle frees it.
struct Root {
  struct promise_type {
    Root get_return_object() {
      return Root{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    std::suspend_always final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};

// Calls `done` with the value once the root is suspended for good. Both are moved out of
// the frame first: `done` may destroy the frame (its owner resets the TaskHandle).
template <typename T>
struct Deliver {
  std::function<void(T)>& done;
  std::optional<T>& value;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) noexcept {
    std::function<void(T)> call = std::move(done);
    T v = std::move(*value);
    if (call) call(std::move(v));
  }
  void await_resume() const noexcept {}
};

template <typename T>
Root RunRoot(Task<T> task, std::function<void(T)> done) {
  std::optional<T> value;
  value.emplace(co_await std::move(task));
  co_await Deliver<T>{done, value};
}

}  // namespace task_internal

// Runs `task` now, up to its first suspension, and `done` with its value when it finishes
// (on the loop, from the event that completed it; possibly before StartTask returns when
// nothing had to wait). `done` may destroy the returned handle.
template <typename T>
TaskHandle StartTask(Task<T> task, std::function<void(T)> done) {
  task_internal::Root root = task_internal::RunRoot<T>(std::move(task), std::move(done));
  TaskHandle owner(root.handle);
  root.handle.resume();
  return owner;
}

}  // namespace pgrt

// Early return of a failed Status or Result from a task, with context added.
#define PGRT_CO_RETURN_IF_ERROR(expr, context)           \
  do {                                                   \
    auto _st = (expr);                                   \
    if (!_st.ok()) co_return _st.status().Wrap(context); \
  } while (0)
