#include "backup/cron.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

namespace pgrt {
namespace {

using namespace std::chrono;

struct Field {
  const char* name;
  int lo, hi;
};
constexpr Field kFields[5] = {{"minute", 0, 59},
                              {"hour", 0, 23},
                              {"day-of-month", 1, 31},
                              {"month", 1, 12},
                              {"day-of-week", 0, 7}};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::optional<int> Number(std::string_view s) {
  int v = 0;
  if (s.empty() || s.size() > 3) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// One comma-separated item ("*", "*/n", "a", "a-b", "a-b/n") into `mask`.
Status AddItem(std::string_view item, const Field& f, uint64_t& mask) {
  const std::string quoted = "\"" + std::string(item) + "\"";
  int step = 1;
  std::string_view range = item;
  if (size_t slash = item.find('/'); slash != std::string_view::npos) {
    std::optional<int> n = Number(item.substr(slash + 1));
    if (!n || *n < 1) return Status::Error(quoted + " has a bad step");
    step = *n;
    range = item.substr(0, slash);
    if (range != "*" && range.find('-') == std::string_view::npos)
      return Status::Error(quoted + " needs * or a range before /");
  }
  int lo = f.lo, hi = f.hi;
  if (range != "*") {
    std::vector<std::string_view> ends = Split(range, '-');
    if (ends.size() > 2) return Status::Error(quoted + " is not a number or range");
    std::optional<int> a = Number(ends[0]);
    std::optional<int> b = ends.size() == 2 ? Number(ends[1]) : a;
    if (!a || !b) return Status::Error(quoted + " is not a number or range");
    if (*a < f.lo || *a > f.hi || *b < f.lo || *b > f.hi)
      return Status::Error(quoted + " is out of range " + std::to_string(f.lo) + "-" +
                           std::to_string(f.hi));
    if (*a > *b) return Status::Error(quoted + " is a reversed range");
    lo = *a;
    hi = *b;
  }
  for (int v = lo; v <= hi; v += step) mask |= uint64_t{1} << v;
  return Status::Ok();
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view text) {
  std::vector<std::string_view> parts;
  for (std::string_view p : Split(text, ' '))
    for (std::string_view q : Split(p, '\t'))
      if (!q.empty()) parts.push_back(q);
  if (parts.size() != 5)
    return Status::Error("expected 5 fields, got " + std::to_string(parts.size()));
  uint64_t masks[5] = {};
  for (size_t i = 0; i < 5; ++i) {
    for (std::string_view item : Split(parts[i], ','))
      PGRT_RETURN_IF_ERROR(AddItem(item, kFields[i], masks[i]), kFields[i].name);
  }
  CronSchedule c;
  c.minutes_ = std::bitset<60>(masks[0]);
  c.hours_ = std::bitset<24>(masks[1]);
  c.days_ = std::bitset<32>(masks[2]);
  c.months_ = std::bitset<13>(masks[3]);
  uint64_t dow = masks[4];
  if (dow & (uint64_t{1} << 7)) dow |= 1;  // 7 is Sunday too
  c.weekdays_ = std::bitset<7>(dow & 0x7f);
  // Vixie cron: a day field starting with * counts as unrestricted ("*/2" too).
  c.days_restricted_ = parts[2].front() != '*';
  c.weekdays_restricted_ = parts[4].front() != '*';
  return c;
}

bool CronSchedule::DayMatches(int day_of_month, int month, int weekday) const {
  if (!months_[month]) return false;
  bool dom = days_[day_of_month];
  bool dow = weekdays_[weekday];
  if (days_restricted_ && weekdays_restricted_) return dom || dow;
  return dom && dow;
}

std::optional<SystemTime> CronSchedule::NextAfter(SystemTime t) const {
  auto tp = floor<minutes>(t) + minutes(1);
  const auto limit = tp + days(366 * 8);
  while (tp < limit) {
    const sys_days day = floor<days>(tp);
    const year_month_day ymd{day};
    const int weekday = static_cast<int>(std::chrono::weekday{day}.c_encoding());
    if (!DayMatches(static_cast<int>(static_cast<unsigned>(ymd.day())),
                    static_cast<int>(static_cast<unsigned>(ymd.month())), weekday)) {
      tp = time_point_cast<minutes>(day + days(1));
      continue;
    }
    const auto hour = duration_cast<hours>(tp - day).count();
    if (!hours_[hour]) {
      tp = time_point_cast<minutes>(day + hours(hour + 1));
      continue;
    }
    const auto minute = duration_cast<minutes>(tp - day - hours(hour)).count();
    if (!minutes_[minute]) {
      tp += minutes(1);
      continue;
    }
    return time_point_cast<SystemTime::duration>(tp);
  }
  return std::nullopt;
}

std::string FormatUtc(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace pgrt
