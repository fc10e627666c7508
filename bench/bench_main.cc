// pgrt_bench: pgrt's start, restart, crash-recovery, stop and memory figures, each against
// a baseline measured in the same run on the same machine (see docs/benchmarks.md).
// Prints one line per figure; exits 0 even when a target is missed (benchmarks report,
// tests assert), 1 when a figure could not be measured at all.
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "backup_bench.h"
#include "figures.h"
#include "ha_bench.h"
#include "lifecycle_bench.h"
#include "loop_bench.h"
#include "pooling_bench.h"
#include "replication_bench.h"
#include "report.h"
#include "sleep_bench.h"
#include "ui_bench.h"

namespace {

// Median of kB samples as "14.7".
std::string Mb(const std::vector<double>& kb) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", pgrt::bench::Median(kb) / 1024.0);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "backup") return pgrt::bench::RunBackupBench();
  if (argc > 1 && std::string(argv[1]) == "replication") return pgrt::bench::RunReplicationBench();
  if (argc > 1 && std::string(argv[1]) == "pooling") return pgrt::bench::RunPoolingBench();
  if (argc > 1 && std::string(argv[1]) == "loop") return pgrt::bench::RunLoopBench();
  if (argc > 1 && std::string(argv[1]) == "lifecycle") return pgrt::bench::RunLifecycleBench();
  if (argc > 1 && std::string(argv[1]) == "ha") return pgrt::bench::RunHaBench();
  if (argc > 1 && std::string(argv[1]) == "sleep") return pgrt::bench::RunSleepBench();
  if (argc > 1 && std::string(argv[1]) == "ui") return pgrt::bench::RunUiBench();
  using namespace pgrt::bench;
  const int reps = RepsFromEnv(5, 100);
  std::cout << "pgrt bench  " << MachineLine() << "  reps=" << reps << "\n" << std::flush;

  Results r;
  for (int i = 0; i < reps; ++i) {
    // Alternate who goes first in each pair: neither side always meets the warmer cache.
    try {
      RunRepetition(r, /*pgrt_first=*/i % 2 == 0);
    } catch (const std::exception& e) {  // the harness throws when pgrt cannot be spawned
      r.errors.push_back(std::string("repetition ") + std::to_string(i + 1) + ": " + e.what());
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
  std::cout << "pgrt, baseline: medians of " << reps
            << " repetitions; ratio: median of the per-repetition ratios pgrt/baseline\n";
  for (const FigureSpec& f : figures) std::cout << FormatFigure(f) << "\n";

  std::cout << "\ndetails\n";
  for (const FigureSpec& f : figures) std::cout << "  " << f.name << "\n" << FormatRuns(f) << "\n";
  std::cout << FormatPhases("first boot, pgrt's own timings (median s)", r.boot_phases) << "\n"
            << FormatPhases("restart, pgrt's own timings (median s)", r.restart_phases) << "\n"
            << "    pgrt idle memory (median MB): VmRSS=" << Mb(r.idle_rss.pgrt)
            << " RssAnon=" << Mb(r.pgrt_rss_anon) << " PSS=" << Mb(r.pgrt_pss)
            << "; its postmaster VmRSS=" << Mb(r.pgrt_postmaster_rss) << "\n"
            << "  baselines: first boot = initdb + pg_ctl start -w + createdb + psql SELECT 1;\n"
               "             restart and kill9 = pg_ctl start -w + psql SELECT 1 (existing data);\n"
               "             sigterm = pg_ctl stop -m fast; idle_rss = the idle bare postmaster\n";

  for (const std::string& e : r.errors) std::cout << "\nERROR " << e << "\n";
  bool missing = false;
  for (const FigureSpec& f : figures)
    missing = missing || f.samples->pgrt.empty() || f.samples->baseline.empty();
  return missing ? 1 : 0;
}
