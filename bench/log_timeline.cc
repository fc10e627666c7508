#include "log_timeline.h"

#include <ctime>
#include <sstream>

namespace pgrt::bench {

std::optional<WallTime> LineTime(const std::string& line) {
  // "2026-11-28 10:22:01.123 UTC": 27 characters.
  if (line.size() < 27 || line.compare(23, 4, " UTC") != 0) return std::nullopt;
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(line.c_str(), "%4d-%2d-%2d %2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t secs = ::timegm(&tm);
  if (secs == -1) return std::nullopt;
  return std::chrono::system_clock::from_time_t(secs) + std::chrono::milliseconds(ms);
}

std::map<std::string, double> MarkerOffsets(const std::string& log, WallTime start,
                                            const std::vector<LogMarker>& markers) {
  std::map<std::string, double> found;
  // Lines are stamped to the millisecond, truncated: one that began with the step may
  // carry a time up to 1 ms before `start`.
  const WallTime earliest = start - std::chrono::milliseconds(1);
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line) && found.size() < markers.size()) {
    std::optional<WallTime> at;
    for (const LogMarker& m : markers) {
      if (found.count(m.label) || line.find(m.text) == std::string::npos) continue;
      if (!at) at = LineTime(line);
      if (!at || *at < earliest) continue;
      found[m.label] = std::chrono::duration<double>(*at - start).count();
    }
  }
  return found;
}

}  // namespace pgrt::bench
