#include "process/event_loop.h"

#include <event2/event.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <climits>

#include "util/loop_thread.h"

namespace pgrt {

struct EventLoop::Watcher {
  EventLoop* loop;
  int fd;
  event* ev = nullptr;
  IoCallback cb;
  ~Watcher() {
    if (ev != nullptr) event_free(ev);
  }
};

namespace {

short EventFlags(int interest) {
  short f = EV_PERSIST;
  if (interest & EventLoop::kReadable) f |= EV_READ;
  if (interest & EventLoop::kWritable) f |= EV_WRITE;
  return f;
}

}  // namespace

EventLoop::EventLoop(const Clock& clock) : clock_(clock) { post_box_->loop = this; }

EventLoop::~EventLoop() {
  {
    std::lock_guard<std::mutex> lock(post_box_->mu);
    post_box_->loop = nullptr;
  }
  watchers_.clear();  // frees their events before the base
  if (timer_ != nullptr) event_free(timer_);
  if (base_ != nullptr) event_base_free(base_);
}

Status EventLoop::Init() {
  event_config* cfg = event_config_new();
  if (cfg == nullptr) return Status::Error("event loop: out of memory");
  // One thread owns the base; other threads reach it only through Post()'s eventfd.
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  base_ = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (base_ == nullptr) return Status::Error("event loop: cannot create an event base");
  timer_ = evtimer_new(base_, &EventLoop::OnTimer, this);
  if (timer_ == nullptr) return Status::Error("event loop: cannot create a timer");
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) return ErrnoStatus("eventfd");
  return Watch(wake_.get(), [this] {
    uint64_t n;
    (void)!::read(wake_.get(), &n, sizeof n);  // EAGAIN: another wake-up already drained it
    DrainPosted();
  });
}

Status EventLoop::Watch(int fd, Callback on_readable) {
  return WatchIo(fd, kReadable, [cb = std::move(on_readable)](int) { cb(); });
}

Status EventLoop::WatchIo(int fd, int interest, IoCallback cb) {
  if (fd < 0) return Status::InvalidArgument("event loop: cannot watch fd " + std::to_string(fd));
  if (watchers_.count(fd) != 0)
    return Status::AlreadyExists("event loop: fd " + std::to_string(fd) + " already watched");
  auto w = std::make_shared<Watcher>();
  w->loop = this;
  w->fd = fd;
  w->cb = std::move(cb);
  w->ev = event_new(base_, fd, EventFlags(interest), &EventLoop::OnIo, w.get());
  if (w->ev == nullptr || event_add(w->ev, nullptr) != 0)
    return Status::Error("event loop: cannot watch fd " + std::to_string(fd));
  watchers_[fd] = std::move(w);
  return Status::Ok();
}

Status EventLoop::SetInterest(int fd, int interest) {
  auto it = watchers_.find(fd);
  if (it == watchers_.end()) return Status::Error("event loop: fd not watched");
  Watcher& w = *it->second;
  event_del(w.ev);
  if (event_assign(w.ev, base_, fd, EventFlags(interest), &EventLoop::OnIo, &w) != 0 ||
      event_add(w.ev, nullptr) != 0)
    return Status::Error("event loop: cannot watch fd " + std::to_string(fd));
  return Status::Ok();
}

void EventLoop::Unwatch(int fd) {
  auto it = watchers_.find(fd);
  if (it == watchers_.end()) return;
  // Out of epoll now, not when the watcher dies: a callback that unwatches itself keeps it
  // alive until it returns, and may close the fd and watch a new one under the same number
  // meanwhile, which the event library would otherwise take for the old, still registered.
  if (it->second->ev != nullptr) event_del(it->second->ev);
  watchers_.erase(it);
}

void EventLoop::OnIo(int, short what, void* arg) {
  Watcher* w = static_cast<Watcher*>(arg);
  EventLoop* loop = w->loop;
  if (loop->quit_) return;
  // Keep the watcher alive while its callback runs: the callback may Unwatch itself.
  std::shared_ptr<Watcher> keep = loop->watchers_.at(w->fd);
  int ready = ((what & EV_READ) ? kReadable : 0) | ((what & EV_WRITE) ? kWritable : 0);
  keep->cb(ready);
}

EventLoop::TimerId EventLoop::AddTimer(Millis delay, Callback cb) {
  TimerId id = next_timer_id_++;
  SteadyTime at = clock_.Now() + delay;
  timers_.emplace(at, std::make_pair(id, std::move(cb)));
  timer_deadlines_[id] = at;
  return id;
}

void EventLoop::CancelTimer(TimerId id) {
  auto d = timer_deadlines_.find(id);
  if (d == timer_deadlines_.end()) return;
  auto [first, last] = timers_.equal_range(d->second);
  for (auto it = first; it != last; ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      break;
    }
  }
  timer_deadlines_.erase(d);
}

void EventLoop::Post(Callback cb) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(std::move(cb));
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);  // EAGAIN: counter full, a wake-up is pending
}

EventLoop::PostFn EventLoop::Poster() {
  return [box = post_box_](Callback cb) {
    std::lock_guard<std::mutex> lock(box->mu);
    if (box->loop != nullptr) box->loop->Post(std::move(cb));
  };
}

void EventLoop::DrainPosted() {
  std::vector<Callback> batch;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    batch.swap(posted_);
  }
  for (auto& cb : batch) cb();
}

void EventLoop::OnTimer(int, short, void*) {}  // it only wakes the loop: Run() runs the timers

void EventLoop::RunDueTimers() {
  SteadyTime now = clock_.Now();
  while (!timers_.empty() && timers_.begin()->first <= now && !quit_) {
    auto lag = std::chrono::duration_cast<Millis>(now - timers_.begin()->first);
    if (lag > worst_lag_) worst_lag_ = lag;
    Callback cb = std::move(timers_.begin()->second.second);
    timer_deadlines_.erase(timers_.begin()->second.first);
    timers_.erase(timers_.begin());
    cb();
    now = clock_.Now();
  }
}

void EventLoop::ArmTimer() {
  evtimer_del(timer_);
  if (timers_.empty()) return;
  auto delta = timers_.begin()->first - clock_.Now();
  if (delta < SteadyTime::duration::zero()) delta = SteadyTime::duration::zero();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(delta).count();
  timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  evtimer_add(timer_, &tv);
}

Millis EventLoop::TakeWorstLag() {
  Millis worst = worst_lag_;
  worst_lag_ = Millis(0);
  return worst;
}

void EventLoop::Quit() {
  quit_ = true;
  if (base_ != nullptr) event_base_loopbreak(base_);
}

Status EventLoop::Run() {
  quit_ = false;
  running_ = true;
  thread_ = std::this_thread::get_id();
  tls_inside_event_loop = true;
  Status result;
  while (!quit_) {
    RunDueTimers();
    if (quit_) break;
    ArmTimer();
    // EVLOOP_ONCE: wait for at least one event, run what is active, return.
    if (event_base_loop(base_, EVLOOP_ONCE) < 0) {
      result = Status::Error("event loop: libevent failed");
      break;
    }
  }
  running_ = false;
  tls_inside_event_loop = false;
  return result;
}

Status EventLoop::RunOnce(Millis max_wait) {
  running_ = true;
  thread_ = std::this_thread::get_id();
  tls_inside_event_loop = true;
  RunDueTimers();
  ArmTimer();
  // A timer of its own bounds the wait: EVLOOP_ONCE returns after the first batch of events.
  event* bound = evtimer_new(base_, &EventLoop::OnTimer, this);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(max_wait).count();
  timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  if (bound != nullptr) evtimer_add(bound, &tv);
  int rc = event_base_loop(base_, EVLOOP_ONCE);
  if (bound != nullptr) event_free(bound);
  RunDueTimers();
  running_ = false;
  tls_inside_event_loop = false;
  return rc < 0 ? Status::Error("event loop: libevent failed") : Status::Ok();
}

}  // namespace pgrt
