// `pgrt_bench pooling`: pgrt's PgBouncer against a PgBouncer configured by hand with the
// same settings, and pgrt's /metrics against prometheus-postgres-exporter, on the same
// database in the same run (see docs/benchmarks.md). PGRT_BENCH_REPS (2) sets the
// repetitions, PGRT_BENCH_POOL_SECONDS (5) the length of each pgbench run.
// Prints one line per figure; 0 when every figure was measured, 1 otherwise.
#pragma once

namespace pgrt::bench {

int RunPoolingBench();

}  // namespace pgrt::bench
