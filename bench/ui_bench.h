// `pgrt_bench ui`: the status page's costs on a standalone node. Page load: GET /ui and
// every JSON answer its first refresh reads, on loopback (baseline: GET /liveness, the
// cheapest route, in the same run). Refresh cost: pgrt's CPU while a client polls what the
// page polls, at 20 times the page's cadence, less pgrt's CPU idle for as long (baseline),
// per second of one open page. pgrt's memory with the sample ring (its size is fixed).
#pragma once

namespace pgrt::bench {

int RunUiBench();

}  // namespace pgrt::bench
