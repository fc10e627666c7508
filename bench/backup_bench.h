// `pgrt_bench backup`: backup and restore of a pgbench database through pgrt against
// pgBackRest run by hand with the same settings, in the same run, on the same repository
// (see docs/benchmarks.md). PGRT_BENCH_BACKUP_SCALE (50) sets the pgbench scale,
// PGRT_BENCH_BACKUP_REPS (3) the repetitions. Prints one line per figure and the ratios.
#pragma once

namespace pgrt::bench {

// 0 when every figure was measured, 1 otherwise.
int RunBackupBench();

}  // namespace pgrt::bench
