// The two sides every start-and-stop figure compares, each step timed from outside: a real
// `pgrt run` (PgrtSide) and PostgreSQL driven by hand with its stock tools (BareSide, on a
// BareCluster). Shared by the default figures (figures.cc) and the lifecycle figures
// (lifecycle_bench.cc), so a first boot or a restart is measured the same way in both.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bare_cluster.h"
#include "figures.h"
#include "harness/harness.h"
#include "probes.h"

namespace pgrt::bench {

// pgrt's own account of a start-up (/__opr/timings), per phase, one sample per start.
using Phases = std::map<std::string, std::vector<double>>;

// One step's outcome: seconds (or kB), or why it failed.
struct Step {
  double value = -1;
  std::string error;
  bool ok() const { return error.empty(); }
};
Step Failed(const std::string& why);

// The last `n` characters of a log, for an error message.
std::string LogTail(const std::string& s, size_t n = 1500);

// The pgrt side: a `pgrt run` on a fresh PGDATA (the harness's node: shared_buffers 32MB,
// loopback TCP), with `extra` merged over its environment.
class PgrtSide {
 public:
  explicit PgrtSide(const testing::Env& extra = {}) : node_(extra) {}

  // `pgrt run` on an empty PGDATA → the first successful query; phases from /__opr/timings.
  Step FirstBoot(Phases& phases);
  // `pgrt run` on an existing PGDATA → the first successful query.
  Step Restart(Phases& phases);
  Step StopQuietly();
  // SIGTERM to pgrt → pgrt has exited (seen through a pidfd, then reaped).
  Step SigtermToExit();
  // SIGKILL to the postmaster of a ready, idle node → a query succeeds again. A fresh
  // pgrt process each time: its restart backoff counts crashes per process.
  Step Kill9ToQuery();
  // One health check, as an orchestrator's probe would make (it includes a DB query).
  void Probe() { node_.Get("/__opr/health"); }

  // A failed step, with the tail of pgrt's log.
  Step Failure(const std::string& what) const;
  testing::PgrtNode& node() { return node_; }

 private:
  Step StartToQuery(milliseconds timeout, const char* what);

  testing::PgrtNode node_;
};

// The baseline side: the same life, by hand with initdb, pg_ctl, createdb and psql.
class BareSide {
 public:
  Step Prepare();
  // initdb + pg_ctl start -w + createdb + psql SELECT 1; when `phases` is given, each
  // tool's seconds go there (initdb, start, createdb, query).
  Step FirstBoot(Phases* phases = nullptr);
  Step StopQuietly();
  // pg_ctl start -w on the existing data directory + psql SELECT 1; when `pg_ctl_s` is
  // given, the seconds until pg_ctl returned go there.
  Step Restart(double* pg_ctl_s = nullptr);
  // pg_ctl stop -m fast -w; when `exit_s` is given, the seconds until the postmaster
  // exited (seen through a pidfd while pg_ctl polls) go there.
  Step StopFast(double* exit_s = nullptr);

  BareCluster& cluster() { return bare_; }

 private:
  Step Check(const Status& st, const char* what, Clock::time_point t0) const;

  BareCluster bare_;
};

// Runs both sides of one step, `pgrt_first` or the other way round (callers alternate, so
// neither side always meets the warmer cache), and records the pair in `into` (when given)
// only when both succeeded, so the samples stay paired. Failures go to `errors`; false when
// either side failed.
bool RunPair(bool pgrt_first, Samples* into, std::vector<std::string>& errors,
             const std::function<Step()>& pgrt, const std::function<Step()>& bare);

}  // namespace pgrt::bench
