// EventLoop: the one loop that owns the runtime's state. File descriptors (signalfd,
// pipes), timers and closures posted from other threads (the HTTP server's) arrive here
// as events and run one at a time on the loop's thread. No busy polling: the loop sleeps
// in epoll_wait until the next fd event or the earliest timer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "util/clock.h"
#include "util/status.h"
#include "util/unique_fd.h"

namespace pgrt {

class EventLoop {
 public:
  using Callback = std::function<void()>;
  using TimerId = uint64_t;

  explicit EventLoop(const Clock& clock);
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  Status Init();

  // Calls `on_readable` whenever fd is readable (level-triggered) until Unwatch.
  Status Watch(int fd, Callback on_readable);
  void Unwatch(int fd);

  TimerId AddTimer(Millis delay, Callback cb);
  void CancelTimer(TimerId id);

  // Thread-safe: runs `cb` on the loop's thread soon.
  void Post(Callback cb);

  // Runs until Quit(). Returns the first error of epoll itself.
  Status Run();
  void Quit() { quit_ = true; }

  const Clock& clock() const { return clock_; }

 private:
  void RunDueTimers();
  void DrainPosted();
  int NextTimeoutMs() const;

  const Clock& clock_;
  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd written by Post()
  std::map<int, Callback> watchers_;
  std::multimap<SteadyTime, std::pair<TimerId, Callback>> timers_;
  TimerId next_timer_id_ = 1;
  bool quit_ = false;

  std::mutex posted_mu_;
  std::vector<Callback> posted_;
};

}  // namespace pgrt
