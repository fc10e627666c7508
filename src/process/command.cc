#include "process/command.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "util/unique_fd.h"

namespace pgrt {
namespace {

// How long a cancelled command's group has between SIGTERM and SIGKILL.
constexpr Millis kStopGrace{5000};

// A repeatable wake-up: each event that may change what the command's loop decides
// notifies it; a notification while it runs is kept for its next wait.
class Wakeup {
 public:
  bool await_ready() noexcept { return std::exchange(notified_, false); }
  void await_suspend(std::coroutine_handle<> h) noexcept { waiting_ = h; }
  void await_resume() const noexcept {}
  // Resumes the task, which may destroy this object: nothing here is touched afterwards.
  void Notify() {
    if (std::coroutine_handle<> h = std::exchange(waiting_, {})) return h.resume();
    notified_ = true;
  }

 private:
  bool notified_ = false;
  std::coroutine_handle<> waiting_;
};

// The loop's watch of the output pipe, ended when the object goes.
class ScopedWatch {
 public:
  explicit ScopedWatch(EventLoop& loop) : loop_(loop) {}
  ScopedWatch(const ScopedWatch&) = delete;
  ScopedWatch& operator=(const ScopedWatch&) = delete;
  ~ScopedWatch() { Reset(); }
  Status Watch(int fd, EventLoop::Callback cb) {
    Status st = loop_.Watch(fd, std::move(cb));
    if (st.ok()) fd_ = fd;
    return st;
  }
  void Reset() {
    if (fd_ >= 0) loop_.Unwatch(std::exchange(fd_, -1));
  }

 private:
  EventLoop& loop_;
  int fd_ = -1;
};

}  // namespace

std::string Tail(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  return "…" + s.substr(s.size() - max);
}

Task<Result<CommandResult>> RunCommand(const TaskContext& tc, SpawnSpec spec, bool capture,
                                       Millis timeout,
                                       std::function<void(std::string_view)> on_output) {
  if (tc.cancel.cancelled()) co_return tc.cancel.Error(spec.name);
  UniqueFd read_end, write_end;
  if (capture) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) co_return ErrnoStatus("pipe");
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    // Reads on the loop never block: a readable pipe that another reader drained is EAGAIN.
    ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
    spec.stdout_fd = write_end.get();
    spec.stderr_fd = write_end.get();
  }
  auto child = LoopChild::Spawn(tc.exits, spec);
  if (!child.ok()) co_return child.status();
  write_end.reset();  // only the child writes now: EOF when it exits

  // What the events below record; the loop at the end decides on them.
  CommandResult result;
  bool timed_out = false;
  bool interrupted = false;
  bool killed = false;  // the grace after SIGTERM is over
  Wakeup wake;
  ScopedWatch output(tc.loop);
  if (read_end) {
    Status watched = output.Watch(read_end.get(), [&] {
      char buf[4096];
      ssize_t got = ::read(read_end.get(), buf, sizeof buf);
      if (got > 0) {
        result.output.append(buf, static_cast<size_t>(got));
        if (on_output) on_output(std::string_view(buf, static_cast<size_t>(got)));
        return;
      }
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) return;
      output.Reset();  // EOF (or a broken pipe): the output is complete
      read_end.reset();
      wake.Notify();
    });
    if (!watched.ok()) co_return watched.Wrap(spec.name);
  }
  child->OnExit([&wake] { wake.Notify(); });
  std::optional<ScopedTimer> deadline;
  if (timeout.count() > 0)
    deadline.emplace(tc.loop, timeout, [&] {
      timed_out = true;
      wake.Notify();
    });
  std::optional<ScopedTimer> kill_timer;
  CancelToken::Registration on_cancel = tc.cancel.OnCancel([&] {
    interrupted = true;
    wake.Notify();
  });

  bool terminated = false;  // SIGTERM sent
  for (;;) {
    if (interrupted && !terminated) {
      terminated = true;
      child->child().SignalGroup(SIGTERM).IgnoreError();  // ESRCH: already gone, as wanted
      kill_timer.emplace(tc.loop, kStopGrace, [&] {
        killed = true;
        wake.Notify();
      });
    }
    if (interrupted) {
      // Its output no longer matters; its exit does, bounded by the grace.
      if (!child->running()) break;
      if (killed) {
        child->child().SignalGroup(SIGKILL).IgnoreError();  // the destructor reaps
        break;
      }
    } else if (!child->running() && !read_end) {
      break;
    } else if (timed_out) {
      child->child().SignalGroup(SIGKILL).IgnoreError();  // the destructor reaps
      co_return Status::DeadlineExceeded(spec.name + ": timed out after " +
                                         std::to_string(timeout.count() / 1000) + " s");
    }
    co_await wake;
  }
  child->OnExit(nullptr);
  if (interrupted) co_return tc.cancel.Error(spec.name);
  result.wait_status = *child->child().exit_status();
  co_return result;
}

}  // namespace pgrt
