// FireTracker: which fire times of a cron schedule are due, and which were missed. The
// event loop wakes it up (a timer) and it answers from the wall time it is given, so a
// late wake-up (a suspended VM, a stalled loop, a clock step) is seen and reported rather
// than silently turned into several runs in a row. Pure: tests hand in the times.
#pragma once

#include <optional>

#include "backup/cron.h"

namespace pgrt {

class FireTracker {
 public:
  // The first fire time is the first one strictly after `now`.
  FireTracker(CronSchedule cron, SystemTime now);

  struct Due {
    SystemTime at;  // the fire time being served (the latest that passed)
    int missed;     // earlier fire times that also passed before this wake-up
  };
  // Nothing while the next fire time is ahead of `now`. Else the latest passed fire time,
  // how many before it were skipped, and the tracker moves past `now`.
  std::optional<Due> Poll(SystemTime now);

  // The next fire time; nullopt when the expression never fires.
  std::optional<SystemTime> next() const { return next_; }

  // How long to sleep before polling again: until the next fire time, but at most
  // `cap`, so a wall clock that jumps is noticed soon.
  Millis Delay(SystemTime now, Millis cap = Millis(60000)) const;

 private:
  CronSchedule cron_;
  std::optional<SystemTime> next_;
};

}  // namespace pgrt
