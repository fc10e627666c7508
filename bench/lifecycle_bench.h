// `pgrt_bench lifecycle`: the node lifecycle figures, each against a baseline measured in the
// same run on the same machine (see docs/benchmarks.md):
//   wake_to_query      POST /__opr/wake of a hibernated node → the first successful query
//                      (baseline: pg_ctl start -w + psql on a stopped bare cluster)
//   hibernate_to_gone  POST /__opr/hibernate → the postmaster is gone, pgrt still live
//                      (baseline: pg_ctl stop -m fast -w)
//   first_boot_to_query  the default bench's figure, judged against this target
// plus where the time went, from pgrt's and postgres's own log lines.
#pragma once

namespace pgrt::bench {

int RunLifecycleBench();

}  // namespace pgrt::bench
