// `pgrt_bench ha`: automatic failover, pgrt (PGRT_HA=etcd) against Patroni 3.0.2 measured in
// the same run on the same etcd, three nodes each behind HAProxy checking GET /primary
// (see docs/benchmarks.md, "HA failover"):
//   kill9_to_write       kill -9 of the leader's manager and its postmaster → the first
//                        INSERT acknowledged through HAProxy by another node
//   sigterm_to_write     SIGTERM of the leader's manager → the same
//   switchover_gap       a back-to-back writer through HAProxy across a planned switchover:
//                        the last write acknowledged by the old leader → the first by the new
//   quiet_*_etcd_rpcs    RPCs each node makes to etcd in 30 s of a quiet cluster, idle
//                        (before HAProxy starts) and checked (HAProxy polling /primary)
//   quiet_*_cpu          CPU seconds of each node's manager process in those 30 s
// each at equal leader lease and at each manager's defaults, as ratios pgrt/Patroni.
#pragma once

namespace pgrt::bench {

int RunHaBench();

}  // namespace pgrt::bench
