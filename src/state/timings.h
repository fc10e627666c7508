// Timings: how long each start-up phase took, for /__opr/timings. Thread-safe: the node
// records, the API reads.
#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "util/clock.h"

namespace pgrt {

class Timings {
 public:
  explicit Timings(SteadyTime launch) : launch_(launch), phase_start_(launch) {}

  // Closes the current phase under `name` at `now`; the next phase starts there.
  void EndPhase(const std::string& name, SteadyTime now);
  // Marks the node ready: startup = launch → now. Later calls (after a restart) are ignored.
  void MarkReady(SteadyTime now);
  // "startup=0.412\nvalidate=0.001\n..." (startup first, once ready).
  std::string Render() const;
  SteadyTime launch() const { return launch_; }

 private:
  mutable std::mutex mu_;
  SteadyTime launch_;
  SteadyTime phase_start_;
  double startup_ = -1;
  std::vector<std::pair<std::string, double>> phases_;
};

}  // namespace pgrt
