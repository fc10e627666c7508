// EventLoop: the one loop that owns the runtime's state, on libevent (PgBouncer's event
// library). File descriptors (signalfd, sockets, libpq connections), timers and closures
// posted from other threads arrive here as events and run one at a time on the loop's
// thread. No busy polling: the loop sleeps in epoll until an fd is ready or a timer is due.
//
// The rule of the loop: nothing that runs on it waits. A callback that needs the network,
// postgres or a child process starts the work and returns; the answer arrives as another
// event. Timers are kept by pgrt against the injected Clock (one libevent timer is armed
// for the earliest), so the worst lateness of a due timer measures how long something
// held the loop: TakeWorstLag() feeds the pgrt_loop_lag_seconds gauge.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "util/clock.h"
#include "util/status.h"
#include "util/unique_fd.h"

struct event_base;
struct event;

namespace pgrt {

class EventLoop {
 public:
  using Callback = std::function<void()>;
  // `ready` is a mask of kReadable and kWritable.
  using IoCallback = std::function<void(int ready)>;
  using TimerId = uint64_t;
  static constexpr int kReadable = 1;
  static constexpr int kWritable = 2;

  explicit EventLoop(const Clock& clock);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  Status Init();

  // Calls `on_readable` whenever fd is readable (level-triggered) until Unwatch.
  Status Watch(int fd, Callback on_readable);
  // Calls `cb` whenever fd is ready for one of `interest` (kReadable | kWritable).
  Status WatchIo(int fd, int interest, IoCallback cb);
  // Changes what a watched fd waits for (a libpq connection alternates read and write).
  Status SetInterest(int fd, int interest);
  // Safe from inside the fd's own callback.
  void Unwatch(int fd);

  TimerId AddTimer(Millis delay, Callback cb);
  void CancelTimer(TimerId id);  // unknown or already fired: nothing happens

  // Thread-safe: runs `cb` on the loop's thread soon.
  void Post(Callback cb);
  // Thread-safe and safe to keep: posts like Post() while the loop exists, and drops the
  // closure once it is gone (for threads that may outlive it).
  using PostFn = std::function<void(Callback)>;
  PostFn Poster();

  // Runs until Quit(). Returns the first error of the event library itself.
  Status Run();
  // Runs what is due and ready, waiting at most `max_wait` for something to happen: tests
  // turn the loop step by step with it. Never from inside Run().
  Status RunOnce(Millis max_wait);
  void Quit();

  const Clock& clock() const { return clock_; }
  // For buffered sockets (the HTTP server, the client-port proxy); loop thread only.
  event_base* base() const { return base_; }
  // The worst delay between a timer's deadline and its run since the previous call.
  Millis TakeWorstLag();
  // True on the thread that is inside Run(): blocking calls assert it is false.
  bool OnLoopThread() const { return running_ && std::this_thread::get_id() == thread_; }

 private:
  struct Watcher;
  static void OnIo(int fd, short what, void* arg);
  static void OnTimer(int fd, short what, void* arg);
  void ArmTimer();
  void RunDueTimers();
  void DrainPosted();

  const Clock& clock_;
  event_base* base_ = nullptr;
  event* timer_ = nullptr;  // armed for the earliest of timers_
  UniqueFd wake_;           // eventfd written by Post()
  std::map<int, std::shared_ptr<Watcher>> watchers_;
  std::multimap<SteadyTime, std::pair<TimerId, Callback>> timers_;
  std::map<TimerId, SteadyTime> timer_deadlines_;
  TimerId next_timer_id_ = 1;
  bool quit_ = false;
  bool running_ = false;
  std::thread::id thread_;
  Millis worst_lag_{0};

  std::mutex posted_mu_;
  std::vector<Callback> posted_;
  struct PostBox {
    std::mutex mu;
    EventLoop* loop = nullptr;
  };
  std::shared_ptr<PostBox> post_box_ = std::make_shared<PostBox>();
};

}  // namespace pgrt
