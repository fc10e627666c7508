// pgrt_bench: pgrt's start, restart, crash-recovery, stop and memory figures, each against
// a baseline measured in the same run on the same machine (see docs/benchmarks.md).
// Prints one line per figure; exits 0 even when a target is missed (benchmarks report,
// tests assert), 1 when a figure could not be measured at all.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include "figures.h"
#include "report.h"

namespace {

int Repetitions() {
  const char* env = std::getenv("PGRT_BENCH_REPS");
  int n = env ? std::atoi(env) : 5;
  return n < 1 ? 1 : (n > 100 ? 100 : n);
}

// Exceptions from the harness (a pgrt that cannot be spawned) become errors of the run.
template <typename F>
void Guarded(pgrt::bench::Results& r, const char* what, F f) {
  try {
    f(r);
  } catch (const std::exception& e) {
    r.errors.push_back(std::string(what) + ": " + e.what());
  }
}

}  // namespace

int main() {
  using namespace pgrt::bench;
  const int reps = Repetitions();
  std::cout << "pgrt bench  " << MachineLine() << "  reps=" << reps << "\n" << std::flush;

  Results r;
  for (int i = 0; i < reps; ++i) {
    // Alternate who goes first, so drift on a noisy machine falls on both sides.
    if (i % 2 == 0) {
      Guarded(r, "pgrt", RunPgrtRepetition);
      Guarded(r, "bare", RunBareRepetition);
    } else {
      Guarded(r, "bare", RunBareRepetition);
      Guarded(r, "pgrt", RunPgrtRepetition);
    }
    std::cerr << "repetition " << i + 1 << "/" << reps << " done\n";
  }

  const FigureSpec figures[] = {
      {"first_boot_to_query", &r.first_boot, Judge::kRatio, 0.90, "s"},
      {"restart_to_query", &r.restart, Judge::kRatio, 0.60, "s"},
      {"kill9_to_query", &r.kill9, Judge::kAbsolute, 0.300, "s"},
      {"sigterm_to_exit", &r.sigterm, Judge::kAbsolute, 0.200, "s"},
      {"idle_rss", &r.idle_rss, Judge::kAbsolute, 10.0, "MB"},
  };
  std::cout << "medians of " << reps << "; ratio = pgrt/baseline\n";
  for (const FigureSpec& f : figures) std::cout << FormatFigure(f) << "\n";

  std::cout << "\ndetails\n";
  for (const FigureSpec& f : figures) std::cout << "  " << f.name << "\n" << FormatRuns(f) << "\n";
  std::cout << FormatPhases("first boot, pgrt's own timings (median s)", r.boot_phases) << "\n"
            << FormatPhases("restart, pgrt's own timings (median s)", r.restart_phases) << "\n"
            << "    postmaster under pgrt, idle RSS (median): "
            << Median(r.pgrt_postmaster_rss) / 1024.0 << " MB\n"
            << "  baselines: first boot = initdb + pg_ctl start -w + createdb + psql SELECT 1;\n"
               "             restart and kill9 = pg_ctl start -w + psql SELECT 1 (existing data);\n"
               "             sigterm = pg_ctl stop -m fast; idle_rss = the idle bare postmaster\n";

  for (const std::string& e : r.errors) std::cout << "\nERROR " << e << "\n";
  bool missing = false;
  for (const FigureSpec& f : figures)
    missing = missing || f.samples->pgrt.empty() || f.samples->baseline.empty();
  return missing ? 1 : 0;
}
