// RunOffLoop: blocking work (a sequence of synchronous libpq calls, say) on a thread of
// its own, with its result handed back to the loop. The loop keeps the deadline: when it
// passes first, `done` gets kDeadlineExceeded and the late result is dropped. The worker
// owns everything it touches (capture copies, never references to loop-owned state): a
// worker stuck on a frozen server may outlive the object that started it, even the loop.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "process/event_loop.h"
#include "util/status.h"

namespace pgrt {

template <typename T>
void RunOffLoop(EventLoop& loop, std::function<Result<T>()> work, Millis deadline,
                std::function<void(Result<T>)> done) {
  struct Shared {
    std::function<void(Result<T>)> done;
    bool finished = false;  // loop thread only
  };
  auto shared = std::make_shared<Shared>();
  shared->done = std::move(done);
  EventLoop::TimerId timer = loop.AddTimer(deadline, [shared] {
    if (shared->finished) return;
    shared->finished = true;
    shared->done(Status::DeadlineExceeded("no answer in time"));
  });
  std::thread([post = loop.Poster(), &loop, work = std::move(work), shared, timer]() mutable {
    auto result = std::make_shared<Result<T>>(work());
    post([&loop, shared, timer, result] {
      if (shared->finished) return;
      shared->finished = true;
      loop.CancelTimer(timer);
      shared->done(std::move(*result));
    });
  }).detach();
}

}  // namespace pgrt
