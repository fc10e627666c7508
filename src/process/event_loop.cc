#include "process/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <climits>

namespace pgrt {

EventLoop::EventLoop(const Clock& clock) : clock_(clock) {}

Status EventLoop::Init() {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return ErrnoStatus("epoll_create1");
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) return ErrnoStatus("eventfd");
  return Watch(wake_.get(), [this] {
    uint64_t n;
    (void)!::read(wake_.get(), &n, sizeof n);  // EAGAIN: another wake-up already drained it
    DrainPosted();
  });
}

Status EventLoop::Watch(int fd, Callback on_readable) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return ErrnoStatus("epoll add");
  watchers_[fd] = std::move(on_readable);
  return Status::Ok();
}

void EventLoop::Unwatch(int fd) {
  if (watchers_.erase(fd) == 0) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);  // a closed fd is already gone
}

EventLoop::TimerId EventLoop::AddTimer(Millis delay, Callback cb) {
  TimerId id = next_timer_id_++;
  timers_.emplace(clock_.Now() + delay, std::make_pair(id, std::move(cb)));
  return id;
}

void EventLoop::CancelTimer(TimerId id) {
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return;
    }
  }
}

void EventLoop::Post(Callback cb) {
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(std::move(cb));
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);  // EAGAIN: counter full, a wake-up is pending
}

void EventLoop::DrainPosted() {
  std::vector<Callback> batch;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    batch.swap(posted_);
  }
  for (auto& cb : batch) cb();
}

void EventLoop::RunDueTimers() {
  SteadyTime now = clock_.Now();
  while (!timers_.empty() && timers_.begin()->first <= now && !quit_) {
    Callback cb = std::move(timers_.begin()->second.second);
    timers_.erase(timers_.begin());
    cb();
  }
}

int EventLoop::NextTimeoutMs() const {
  if (timers_.empty()) return -1;
  auto delta = timers_.begin()->first - clock_.Now();
  if (delta <= SteadyTime::duration::zero()) return 0;
  auto ms = std::chrono::ceil<Millis>(delta).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

Status EventLoop::Run() {
  quit_ = false;
  epoll_event events[16];
  while (!quit_) {
    int n = ::epoll_wait(epoll_.get(), events, 16, NextTimeoutMs());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("epoll_wait");
    }
    for (int i = 0; i < n && !quit_; ++i) {
      auto it = watchers_.find(events[i].data.fd);
      if (it == watchers_.end()) continue;  // unwatched by an earlier callback in this batch
      Callback cb = it->second;             // copy: the callback may Unwatch itself
      cb();
    }
    RunDueTimers();
  }
  return Status::Ok();
}

}  // namespace pgrt
