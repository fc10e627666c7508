// Where a step's time went, read back from logs: the moment of each of a few known lines
// after the step began. pgrt's lines and postgres's (with its default log_line_prefix, '%m')
// both begin with a UTC wall-clock time to the millisecond:
//   2026-11-28 10:22:01.123 UTC [pgrt] info: node: hibernated → waking: wake requested ...
//   2026-11-28 10:22:01.160 UTC [4242] LOG:  database system is ready to accept connections
// so offsets are good to about a millisecond.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pgrt::bench {

using WallTime = std::chrono::system_clock::time_point;

// A line to look for: the first line whose text contains `text` is the moment `label`.
struct LogMarker {
  std::string label;
  std::string text;
};

// The wall time a log line begins with ("YYYY-MM-DD HH:MM:SS.mmm UTC"); nullopt otherwise
// (another format or time zone: not guessed at).
std::optional<WallTime> LineTime(const std::string& line);

// Seconds from `start` to the first line of `log` that holds each marker's text and is
// stamped at or after `start` (less a millisecond of rounding); markers not found are
// absent. `log` is usually what was appended since the step began.
std::map<std::string, double> MarkerOffsets(const std::string& log, WallTime start,
                                            const std::vector<LogMarker>& markers);

}  // namespace pgrt::bench
