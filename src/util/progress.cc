#include "util/progress.h"

#include <regex>
#include <string>

namespace pgrt {
namespace {

std::optional<std::smatch> LastMatch(const std::string& text, const std::regex& re) {
  std::optional<std::smatch> last;
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it) last = *it;
  return last;
}

}  // namespace

std::optional<ProgressReading> LastBaseBackupProgress(std::string_view text) {
  static const std::regex re(R"(([0-9]+)/([0-9]+) kB \(([0-9]+)%\))");
  const std::string s(text);
  auto m = LastMatch(s, re);
  if (!m) return std::nullopt;
  ProgressReading r;
  r.bytes_done = std::stoull((*m)[1]) * 1024;
  r.bytes_total = std::stoull((*m)[2]) * 1024;
  r.percent = std::stod((*m)[3]);
  return r;
}

std::optional<ProgressReading> LastPgBackRestProgress(std::string_view text) {
  static const std::regex re(R"(\([0-9.]+[KMGTP]?B, ([0-9]+(\.[0-9]+)?)%\))");
  const std::string s(text);
  auto m = LastMatch(s, re);
  if (!m) return std::nullopt;
  ProgressReading r;
  r.percent = std::stod((*m)[1]);
  return r;
}

}  // namespace pgrt
