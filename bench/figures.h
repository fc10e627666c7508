// The figures. One repetition takes a pgrt node and a bare cluster through the same life
// in lockstep — first boot, stop, restart, idle, stop, and (pgrt) a crash — measuring
// each step of one side right after the same step of the other, so load that comes and
// goes on a shared machine falls on both sides of each pair.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace pgrt::bench {

// Paired samples of one figure: pgrt and its baseline, one pair per repetition.
struct Samples {
  std::vector<double> pgrt;
  std::vector<double> baseline;
};

struct Results {
  Samples first_boot;  // s: empty PGDATA → first successful query
  Samples restart;     // s: existing PGDATA → first successful query
  Samples kill9;       // s: SIGKILL of the postmaster → first successful query
                       //    (baseline: the same repetition's pg_ctl restart + first query)
  Samples sigterm;     // s: SIGTERM → pgrt gone (baseline: pg_ctl stop -m fast)
  Samples idle_rss;    // kB: pgrt itself (baseline: the idle postmaster of the bare cluster)
  // pgrt's idle memory beyond VmRSS, kB: anonymous (its own heap and stacks), PSS.
  std::vector<double> pgrt_rss_anon, pgrt_pss, pgrt_postmaster_rss;
  // pgrt's own account of its start-up (/__opr/timings), per phase.
  std::map<std::string, std::vector<double>> boot_phases;
  std::map<std::string, std::vector<double>> restart_phases;
  std::vector<std::string> errors;
};

// One repetition of every figure; `pgrt_first` says which side goes first in each pair.
// Failures go to results.errors; a failed step ends the repetition.
void RunRepetition(Results& results, bool pgrt_first);

}  // namespace pgrt::bench
