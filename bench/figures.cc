#include "figures.h"

#include <signal.h>

#include <functional>
#include <sstream>
#include <thread>

#include "bare_cluster.h"
#include "harness/harness.h"
#include "probes.h"

namespace pgrt::bench {
namespace {

using testing::PgrtNode;

constexpr milliseconds kBootTimeout{120000};
constexpr milliseconds kStartTimeout{60000};
constexpr milliseconds kStopTimeout{30000};
constexpr milliseconds kIdle{1000};

std::string LogTail(const std::string& s, size_t n = 1500) {
  return s.size() <= n ? s : s.substr(s.size() - n);
}

// One step's outcome: seconds (or kB), or why it failed.
struct Step {
  double value = -1;
  std::string error;
  bool ok() const { return error.empty(); }
};

Step Failed(const std::string& why) { return {-1, why.empty() ? "failed" : why}; }

// The pgrt side: a `pgrt run` on a fresh PGDATA with POSTGRES_SHARED_BUFFERS=32MB.
class PgrtSide {
 public:
  Step FirstBoot(Results& r) {
    Step s = StartToQuery(kBootTimeout, "first boot");
    if (s.ok()) CollectTimings(r.boot_phases);
    return s;
  }
  Step Restart(Results& r) {
    Step s = StartToQuery(kStartTimeout, "restart");
    if (s.ok()) CollectTimings(r.restart_phases);
    return s;
  }
  Step StopQuietly() {
    if (!node_.Stop(SIGTERM, kStopTimeout)) return Failure("stop");
    return {0, ""};
  }
  // SIGTERM to pgrt → pgrt has exited (seen through a pidfd, then reaped).
  Step SigtermToExit() {
    pid_t pid = node_.pid();
    auto t0 = Clock::now();
    ::kill(pid, SIGTERM);
    bool gone = WaitProcessGone(pid, kStopTimeout);
    double s = SecondsSince(t0);
    node_.WaitExit(kStopTimeout);
    return gone ? Step{s, ""} : Failure("SIGTERM to exit");
  }
  // SIGKILL to the postmaster of a ready, idle node → a query succeeds again. A fresh
  // pgrt process each time: its restart backoff counts crashes per process.
  Step Kill9ToQuery() {
    node_.Start();
    if (!WaitForQuery(node_.Conn(), kStartTimeout)) return Failure("start before kill -9");
    std::this_thread::sleep_for(kIdle / 2);
    pid_t pm = node_.PostmasterPid();
    if (pm <= 0) return Failure("no postmaster.pid");
    auto t0 = Clock::now();
    ::kill(pm, SIGKILL);
    // Not before the old postmaster is gone: its listening socket could still take a SYN.
    if (!WaitProcessGone(pm, milliseconds(5000))) return Failure("postmaster survived SIGKILL");
    if (!WaitForQuery(node_.Conn(), kStartTimeout)) return Failure("kill -9 to query");
    double s = SecondsSince(t0);
    node_.Stop(SIGTERM, kStopTimeout);
    return {s, ""};
  }
  void RecordIdleMemory(Results& r) {
    r.idle_rss.pgrt.push_back(static_cast<double>(VmRssKb(node_.pid())));
    r.pgrt_rss_anon.push_back(static_cast<double>(StatusFieldKb(node_.pid(), "RssAnon")));
    r.pgrt_pss.push_back(static_cast<double>(PssKb(node_.pid())));
    r.pgrt_postmaster_rss.push_back(static_cast<double>(VmRssKb(node_.PostmasterPid())));
  }
  // One health check, as an orchestrator's probe would make (it includes a DB query):
  // the idle figure is of a node that has served its API, not of an untouched one.
  void Probe() { node_.Get("/__opr/health"); }

 private:
  Step StartToQuery(milliseconds timeout, const char* what) {
    auto t0 = Clock::now();
    node_.Start();
    if (!WaitForQuery(node_.Conn(), timeout)) return Failure(what);
    return {SecondsSince(t0), ""};
  }
  Step Failure(const std::string& what) {
    return Failed("pgrt " + what + " failed; log tail:\n" + LogTail(node_.Log()));
  }
  // "startup=0.412\ninitdb=0.9\n..." into per-phase samples.
  void CollectTimings(std::map<std::string, std::vector<double>>& into) {
    std::istringstream in(node_.Get("/__opr/timings").body);
    std::string line;
    while (std::getline(in, line)) {
      size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      try {
        into[line.substr(0, eq)].push_back(std::stod(line.substr(eq + 1)));
      } catch (...) {
        // Not a number: a line this bench does not know; the figures are unaffected.
      }
    }
  }

  PgrtNode node_;
};

// The baseline side: the same life, by hand with initdb, pg_ctl, createdb and psql.
class BareSide {
 public:
  Step Prepare() { return Check(bare_.Prepare(), "prepare", Clock::now()); }
  Step FirstBoot() {
    auto t0 = Clock::now();
    Status st = bare_.Initdb();
    if (st.ok()) st = bare_.Start();
    if (st.ok()) st = bare_.CreateDb();
    if (st.ok()) st = bare_.QueryOnce();
    return Check(st, "first boot", t0);
  }
  Step StopQuietly() { return Check(bare_.Stop(), "stop", Clock::now()); }
  Step Restart() {
    auto t0 = Clock::now();
    Status st = bare_.Start();
    if (st.ok()) st = bare_.QueryOnce();
    return Check(st, "restart", t0);
  }
  Step StopFast() {
    auto t0 = Clock::now();
    return Check(bare_.Stop(), "pg_ctl stop -m fast", t0);
  }
  void RecordIdleMemory(Results& r) {
    r.idle_rss.baseline.push_back(static_cast<double>(VmRssKb(bare_.PostmasterPid())));
  }

 private:
  Step Check(const Status& st, const char* what, Clock::time_point t0) {
    if (st.ok()) return {SecondsSince(t0), ""};
    return Failed(std::string("bare ") + what + ": " + st.message() + "\n" + LogTail(bare_.Log()));
  }
  BareCluster bare_;
};

}  // namespace

void RunRepetition(Results& r, bool pgrt_first) {
  PgrtSide pgrt;
  BareSide bare;
  if (Step s = bare.Prepare(); !s.ok()) {
    r.errors.push_back(s.error);
    return;
  }
  // Runs both sides of one step, in this repetition's order; records the pair only when
  // both succeeded, so the samples stay paired.
  auto pair = [&](Samples* into, const std::function<Step()>& p,
                  const std::function<Step()>& b) -> bool {
    Step ps, bs;
    if (pgrt_first) {
      ps = p();
      bs = b();
    } else {
      bs = b();
      ps = p();
    }
    if (!ps.ok()) r.errors.push_back(ps.error);
    if (!bs.ok()) r.errors.push_back(bs.error);
    if (!ps.ok() || !bs.ok()) return false;
    if (into) {
      into->pgrt.push_back(ps.value);
      into->baseline.push_back(bs.value);
    }
    return true;
  };

  if (!pair(
          &r.first_boot, [&] { return pgrt.FirstBoot(r); }, [&] { return bare.FirstBoot(); }))
    return;
  if (!pair(
          nullptr, [&] { return pgrt.StopQuietly(); }, [&] { return bare.StopQuietly(); }))
    return;
  Step bare_restart;
  if (!pair(
          &r.restart, [&] { return pgrt.Restart(r); },
          [&] { return bare_restart = bare.Restart(); }))
    return;

  // Both idle at once, then each one's memory.
  pgrt.Probe();
  std::this_thread::sleep_for(kIdle);
  pgrt.RecordIdleMemory(r);
  bare.RecordIdleMemory(r);

  if (!pair(
          &r.sigterm, [&] { return pgrt.SigtermToExit(); }, [&] { return bare.StopFast(); }))
    return;
  Step crash = pgrt.Kill9ToQuery();
  if (!crash.ok()) {
    r.errors.push_back(crash.error);
    return;
  }
  r.kill9.pgrt.push_back(crash.value);
  r.kill9.baseline.push_back(bare_restart.value);
}

}  // namespace pgrt::bench
