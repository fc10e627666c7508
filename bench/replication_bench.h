// `pgrt_bench replication`: a replica's bootstrap through `pgrt run` against
// pg_basebackup + pg_ctl start by hand, the role check (GET /primary) throughput and p99
// under wrk against a minimal Python HTTP server, and the primary's idle memory — all in
// one run, on one pgrt primary (see docs/benchmarks.md). PGRT_BENCH_REPS (3) repetitions.
#pragma once

namespace pgrt::bench {

// 0 when every figure was measured, 1 otherwise.
int RunReplicationBench();

}  // namespace pgrt::bench
