// `pgrt_bench sleep`: scale to zero (docs/scale-to-zero.md) against its baselines in the same
// run. Wake: a client's first query on a sleeping pgrt node against bare postgres spawned on
// the same kind of data directory and polled until its first query answers. Steady state:
// pgbench through pgrt's client door against pgbench straight to postgres's private port, and
// through socat (a general relay) for scale. Asleep: pgrt's VmRSS and how often it wakes up.
// PGRT_BENCH_WAKES (20) sets the wakes per side, PGRT_BENCH_POOL_SECONDS (5) each pgbench run,
// PGRT_BENCH_REPS (3) the pgbench repetitions. 0 when every figure was measured.
#pragma once

namespace pgrt::bench {

int RunSleepBench();

}  // namespace pgrt::bench
