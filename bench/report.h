// Turning samples into the printed table: medians, ratios, targets, OK/MISS.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "figures.h"

namespace pgrt::bench {

double Median(std::vector<double> v);  // NaN when empty
// The median of the per-repetition ratios pgrt/baseline. Each pair was measured back to
// back, so this cancels load that changes between repetitions better than a ratio of
// medians would.
double PairedRatio(const Samples& s);

// How a figure is judged: on the ratio pgrt/baseline, or on pgrt's absolute value.
enum class Judge { kRatio, kAbsolute };

struct FigureSpec {
  const char* name;
  const Samples* samples;
  Judge judge;
  double target;
  const char* unit;  // "s" or "MB" (samples in kB)
};

// "first_boot_to_query  pgrt=0.812s  baseline=1.534s  ratio=0.53  target<=0.90  OK"
// (pgrt and baseline: medians; ratio: PairedRatio)
std::string FormatFigure(const FigureSpec& f);
// "  runs pgrt=[0.81 0.79 ...]  baseline=[...]"
std::string FormatRuns(const FigureSpec& f);
// "  first boot phases (pgrt, median s): initdb=0.912 setup=0.101 ..."
std::string FormatPhases(const std::string& title,
                         const std::map<std::string, std::vector<double>>& phases);

// PGRT_BENCH_REPS when set (clamped to 1..`max`), else `fallback`.
int RepsFromEnv(int fallback, int max);

// "nproc=2  kernel=6.1.0-18-amd64  postgres=15.6"
std::string MachineLine();

}  // namespace pgrt::bench
