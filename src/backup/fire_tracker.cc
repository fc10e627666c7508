#include "backup/fire_tracker.h"

#include <algorithm>

namespace pgrt {

FireTracker::FireTracker(CronSchedule cron, SystemTime now)
    : cron_(std::move(cron)), next_(cron_.NextAfter(now)) {}

std::optional<FireTracker::Due> FireTracker::Poll(SystemTime now) {
  if (!next_ || now < *next_) return std::nullopt;
  Due due{*next_, 0};
  // Walk the fire times that passed; a year of every-minute runs is ~500k steps, so the
  // walk is bounded by stopping at a generous count and jumping to `now`.
  for (int steps = 0; steps < 100000; ++steps) {
    std::optional<SystemTime> later = cron_.NextAfter(due.at);
    if (!later || *later > now) break;
    due.at = *later;
    due.missed++;
  }
  next_ = cron_.NextAfter(std::max(now, due.at));
  return due;
}

Millis FireTracker::Delay(SystemTime now, Millis cap) const {
  if (!next_) return cap;
  auto until = std::chrono::ceil<Millis>(*next_ - now);
  return std::clamp(until, Millis(0), cap);
}

}  // namespace pgrt
