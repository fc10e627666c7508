#include "state/timings.h"

#include <cstdio>

namespace pgrt {
namespace {
std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}
}  // namespace

void Timings::EndPhase(const std::string& name, SteadyTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  phases_.emplace_back(name, SecondsBetween(phase_start_, now));
  phase_start_ = now;
}

void Timings::MarkReady(SteadyTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (startup_ >= 0) return;
  phases_.emplace_back("ready", SecondsBetween(phase_start_, now));
  phase_start_ = now;
  startup_ = SecondsBetween(launch_, now);
}

std::string Timings::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  if (startup_ >= 0) out += "startup=" + Seconds(startup_) + "\n";
  for (const auto& [name, s] : phases_) out += name + "=" + Seconds(s) + "\n";
  return out;
}

}  // namespace pgrt
