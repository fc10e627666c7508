// What the benchmark observes from outside, the way a client or an orchestrator would:
// the first query that succeeds, the moment a process is gone, a process's resident memory.
// Every wait here is bounded by a timeout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "pg/connection.h"

namespace pgrt::bench {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Opens a new libpq connection with `params` and runs SELECT 1, every `step`, until it
// succeeds; false when `timeout` passes first. Each attempt is a fresh connection, as a
// client arriving at that moment would make.
bool WaitForQuery(const ConnParams& params, milliseconds timeout,
                  milliseconds step = milliseconds(2));

// Waits until `pid` has exited (gone or a zombie; pidfd, so no polling delay); false on
// timeout. Works for processes that are not our children (a pg_ctl-started postmaster).
bool WaitProcessGone(pid_t pid, milliseconds timeout);

// A "Name:   123 kB" field of /proc/PID/status (VmRSS, RssAnon, ...); -1 when unknown.
long StatusFieldKb(pid_t pid, const std::string& field);
inline long VmRssKb(pid_t pid) { return StatusFieldKb(pid, "VmRSS"); }
// Proportional set size (shared pages divided among their users), /proc/PID/smaps_rollup.
long PssKb(pid_t pid);

// The first pid in a postmaster.pid file; 0 when none.
pid_t PostmasterPidOf(const std::string& datadir);

// One bounded pgbench run (8 clients, 2 threads, `seconds` long, as user app on appdb at
// `host`:`port`, plus `extra`); TPS, or -1 with pgbench's output added to `errors`.
double Pgbench(int port, const std::string& password, const std::vector<std::string>& extra,
               int seconds, std::vector<std::string>& errors,
               const std::string& host = "127.0.0.1");

}  // namespace pgrt::bench
