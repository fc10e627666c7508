// PromotionNudge: wakes PostgreSQL's startup process while a promotion waits for it.
//
// Once streaming has failed (the old primary stopped or died), PostgreSQL 15's startup
// process sleeps out the rest of wal_retrieve_retry_interval (5 s) before it looks at a
// promote request again ("waiting for WAL to become available" in its log): a failover or
// switchover would wait up to 5 s for nothing. A SIGHUP sets the latch that sleep waits
// on, so while pg_promote() runs the postmaster (which passes it on to the startup
// process) gets one now and then. Repeated, with growing gaps, because a signal that
// lands before the sleep begins is used up; a reload changes nothing, pgrt's settings
// are already in place.
#pragma once

#include <cstddef>
#include <functional>

#include "process/event_loop.h"

namespace pgrt {

class PromotionNudge {
 public:
  // `nudge` sends the signal; the first one goes after the first gap.
  PromotionNudge(EventLoop& loop, std::function<void()> nudge);
  ~PromotionNudge();
  PromotionNudge(const PromotionNudge&) = delete;
  PromotionNudge& operator=(const PromotionNudge&) = delete;

 private:
  void Arm();

  EventLoop& loop_;
  std::function<void()> nudge_;
  size_t step_ = 0;
  EventLoop::TimerId timer_ = 0;
};

}  // namespace pgrt
