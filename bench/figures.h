// The figures: each repetition runs a pgrt node and a bare cluster through the same
// life (first boot, restart, idle, stop, crash) and records what each step took.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace pgrt::bench {

// Paired samples of one figure: pgrt and its baseline, one value per repetition.
struct Samples {
  std::vector<double> pgrt;
  std::vector<double> baseline;
};

struct Results {
  Samples first_boot;  // s: empty PGDATA → first successful query
  Samples restart;     // s: existing PGDATA → first successful query
  Samples kill9;       // s: SIGKILL of the postmaster → first successful query
                       //    (baseline: pg_ctl start of an existing cluster + first query)
  Samples sigterm;     // s: SIGTERM → pgrt gone (baseline: pg_ctl stop -m fast)
  Samples idle_rss;    // kB: pgrt itself (baseline: the idle postmaster of the bare cluster)
  std::vector<double> pgrt_postmaster_rss;  // kB: the postmaster under pgrt, for reference
  // pgrt's own account of its start-up (/__opr/timings), per phase.
  std::map<std::string, std::vector<double>> boot_phases;
  std::map<std::string, std::vector<double>> restart_phases;
  std::vector<std::string> errors;
};

// One repetition of every pgrt figure; failures go to results.errors.
void RunPgrtRepetition(Results& results);
// One repetition of every baseline figure.
void RunBareRepetition(Results& results);

}  // namespace pgrt::bench
