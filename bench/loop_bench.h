// `pgrt_bench loop`: the non-blocking core. Probe latency while hostile HTTP clients hold
// connections open (baseline: the same node's probes with no such clients, measured in
// the same run), SIGTERM → exit with postgres stopped (baseline: SIGTERM of the same kind
// of node with postgres running), and pgrt's memory under that load.
#pragma once

namespace pgrt::bench {

int RunLoopBench();

}  // namespace pgrt::bench
