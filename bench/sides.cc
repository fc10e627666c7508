#include "sides.h"

#include <signal.h>

#include <sstream>
#include <thread>

namespace pgrt::bench {
namespace {

constexpr milliseconds kBootTimeout{120000};
constexpr milliseconds kStartTimeout{60000};
constexpr milliseconds kStopTimeout{30000};
constexpr milliseconds kIdle{1000};

// "startup=0.412\ninitdb=0.9\n..." into per-phase samples.
void CollectTimings(const testing::PgrtNode& node, Phases& into) {
  std::istringstream in(node.Get("/__opr/timings").body);
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

}  // namespace

Step Failed(const std::string& why) { return {-1, why.empty() ? "failed" : why}; }

std::string LogTail(const std::string& s, size_t n) {
  return s.size() <= n ? s : s.substr(s.size() - n);
}

Step PgrtSide::FirstBoot(Phases& phases) {
  Step s = StartToQuery(kBootTimeout, "first boot");
  if (s.ok()) CollectTimings(node_, phases);
  return s;
}

Step PgrtSide::Restart(Phases& phases) {
  Step s = StartToQuery(kStartTimeout, "restart");
  if (s.ok()) CollectTimings(node_, phases);
  return s;
}

Step PgrtSide::StopQuietly() {
  if (!node_.Stop(SIGTERM, kStopTimeout)) return Failure("stop");
  return {0, ""};
}

Step PgrtSide::SigtermToExit() {
  pid_t pid = node_.pid();
  auto t0 = Clock::now();
  ::kill(pid, SIGTERM);
  bool gone = WaitProcessGone(pid, kStopTimeout);
  double s = SecondsSince(t0);
  node_.WaitExit(kStopTimeout);
  return gone ? Step{s, ""} : Failure("SIGTERM to exit");
}

Step PgrtSide::Kill9ToQuery() {
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

Step PgrtSide::Failure(const std::string& what) const {
  return Failed("pgrt " + what + " failed; log tail:\n" + LogTail(node_.Log()));
}

Step PgrtSide::StartToQuery(milliseconds timeout, const char* what) {
  auto t0 = Clock::now();
  node_.Start();
  if (!WaitForQuery(node_.Conn(), timeout)) return Failure(what);
  return {SecondsSince(t0), ""};
}

Step BareSide::Prepare() { return Check(bare_.Prepare(), "prepare", Clock::now()); }

Step BareSide::FirstBoot(Phases* phases) {
  const auto t0 = Clock::now();
  auto lap = Clock::now();
  // Runs one tool while everything before it succeeded, timing it into `phases`.
  auto run = [&](Status st, const char* phase, Status (BareCluster::*tool)()) {
    if (!st.ok()) return st;
    st = (bare_.*tool)();
    if (phases) (*phases)[phase].push_back(SecondsSince(lap));
    lap = Clock::now();
    return st;
  };
  Status st = run(Status::Ok(), "initdb", &BareCluster::Initdb);
  st = run(st, "start", &BareCluster::Start);
  st = run(st, "createdb", &BareCluster::CreateDb);
  st = run(st, "query", &BareCluster::QueryOnce);
  return Check(st, "first boot", t0);
}

Step BareSide::StopQuietly() { return Check(bare_.Stop(), "stop", Clock::now()); }

Step BareSide::Restart(double* pg_ctl_s) {
  auto t0 = Clock::now();
  Status st = bare_.Start();
  if (pg_ctl_s) *pg_ctl_s = SecondsSince(t0);
  if (st.ok()) st = bare_.QueryOnce();
  return Check(st, "restart", t0);
}

Step BareSide::StopFast(double* exit_s) {
  const pid_t postmaster = bare_.PostmasterPid();
  auto t0 = Clock::now();
  std::thread watch;
  if (exit_s) {
    *exit_s = -1;
    watch = std::thread([postmaster, t0, exit_s] {
      if (WaitProcessGone(postmaster, kStopTimeout)) *exit_s = SecondsSince(t0);
    });
  }
  Status st = bare_.Stop();
  Step s = Check(st, "pg_ctl stop -m fast", t0);
  if (watch.joinable()) watch.join();
  return s;
}

Step BareSide::Check(const Status& st, const char* what, Clock::time_point t0) const {
  if (st.ok()) return {SecondsSince(t0), ""};
  return Failed(std::string("bare ") + what + ": " + st.message() + "\n" + LogTail(bare_.Log()));
}

bool RunPair(bool pgrt_first, Samples* into, std::vector<std::string>& errors,
             const std::function<Step()>& pgrt, const std::function<Step()>& bare) {
  Step ps, bs;
  if (pgrt_first) {
    ps = pgrt();
    bs = bare();
  } else {
    bs = bare();
    ps = pgrt();
  }
  if (!ps.ok()) errors.push_back(ps.error);
  if (!bs.ok()) errors.push_back(bs.error);
  if (!ps.ok() || !bs.ok()) return false;
  if (into) {
    into->pgrt.push_back(ps.value);
    into->baseline.push_back(bs.value);
  }
  return true;
}

}  // namespace pgrt::bench
