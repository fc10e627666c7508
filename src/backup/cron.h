// CronSchedule: a five-field cron expression (minute hour day-of-month month day-of-week),
// evaluated in UTC, and the next time it fires. The grammar is the one the config layer
// validates (config/values.cc CheckCron): each field a list of *, */n, a, a-b or a-b/n;
// day-of-week 0 and 7 are both Sunday. As in Vixie cron, when both day fields are
// restricted a day matches if either does.
//
// Pure: time comes in as an argument, so tests drive it with any instant they like.
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "util/clock.h"
#include "util/status.h"

namespace pgrt {

class CronSchedule {
 public:
  static Result<CronSchedule> Parse(std::string_view text);

  // The first whole minute strictly after `t` that the expression matches; nullopt when
  // none comes within eight years (e.g. "0 0 30 2 *", which never fires).
  std::optional<SystemTime> NextAfter(SystemTime t) const;

 private:
  CronSchedule() = default;
  bool DayMatches(int day_of_month, int month, int weekday) const;

  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1-31
  std::bitset<13> months_;   // 1-12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

// "2024-01-31T03:00:00Z", for logs and the API.
std::string FormatUtc(SystemTime t);

}  // namespace pgrt
