#include "figures.h"

#include <signal.h>

#include <sstream>
#include <thread>

#include "bare_cluster.h"
#include "harness/harness.h"
#include "probes.h"

namespace pgrt::bench {
namespace {

using testing::PgrtNode;
using std::chrono::seconds;

constexpr milliseconds kBootTimeout{120000};
constexpr milliseconds kStartTimeout{60000};
constexpr milliseconds kStopTimeout{30000};
constexpr milliseconds kIdle{1000};

std::string Tail(const std::string& s, size_t n = 1500) {
  return s.size() <= n ? s : s.substr(s.size() - n);
}

// "startup=0.412\ninitdb=0.9\n..." into per-phase samples.
void CollectTimings(const PgrtNode& node, std::map<std::string, std::vector<double>>& into) {
  std::istringstream in(node.Get("/__opr/timings").body);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    try {
      into[line.substr(0, eq)].push_back(std::stod(line.substr(eq + 1)));
    } catch (...) {
      // Not a number: a format this bench does not know; the figure itself is unaffected.
    }
  }
}

// Starts pgrt and returns the seconds until a query succeeds (negative: it never did).
double StartToQuery(PgrtNode& node, milliseconds timeout) {
  auto t0 = Clock::now();
  node.Start();
  if (!WaitForQuery(node.Conn(), timeout)) return -1;
  return SecondsSince(t0);
}

// SIGTERM to pgrt → pgrt has exited (seen through a pidfd, then reaped).
double SigtermToExit(PgrtNode& node) {
  pid_t pid = node.pid();
  auto t0 = Clock::now();
  ::kill(pid, SIGTERM);
  bool gone = WaitProcessGone(pid, kStopTimeout);
  double s = SecondsSince(t0);
  node.WaitExit(kStopTimeout);
  return gone ? s : -1;
}

// SIGKILL to the postmaster of a ready, idle node → a query succeeds again.
double Kill9ToQuery(PgrtNode& node) {
  pid_t pm = node.PostmasterPid();
  if (pm <= 0) return -1;
  auto t0 = Clock::now();
  ::kill(pm, SIGKILL);
  // Not before the old postmaster is gone: its listening socket could still take a SYN.
  if (!WaitProcessGone(pm, milliseconds(5000))) return -1;
  if (!WaitForQuery(node.Conn(), kStartTimeout)) return -1;
  return SecondsSince(t0);
}

bool Record(Results& r, std::vector<double>& into, double value, const char* what,
            const PgrtNode& node) {
  if (value < 0) {
    r.errors.push_back(std::string("pgrt ") + what + " failed; log tail:\n" + Tail(node.Log()));
    return false;
  }
  into.push_back(value);
  return true;
}

bool RecordBare(Results& r, const Status& st, const char* what, const BareCluster& bare) {
  if (st.ok()) return true;
  r.errors.push_back(std::string("bare ") + what + ": " + st.message() + "\n" + Tail(bare.Log()));
  return false;
}

}  // namespace

void RunPgrtRepetition(Results& r) {
  PgrtNode node;  // its own dir, loopback ports, POSTGRES_SHARED_BUFFERS=32MB
  if (!Record(r, r.first_boot.pgrt, StartToQuery(node, kBootTimeout), "first boot", node)) return;
  CollectTimings(node, r.boot_phases);
  if (!node.Stop(SIGTERM, kStopTimeout)) {
    r.errors.push_back("pgrt did not stop after first boot");
    return;
  }

  if (!Record(r, r.restart.pgrt, StartToQuery(node, kStartTimeout), "restart", node)) return;
  CollectTimings(node, r.restart_phases);
  node.Get("/__opr/health");  // as an orchestrator's probe would: its DB check included
  std::this_thread::sleep_for(kIdle);
  r.idle_rss.pgrt.push_back(static_cast<double>(VmRssKb(node.pid())));
  r.pgrt_postmaster_rss.push_back(static_cast<double>(VmRssKb(node.PostmasterPid())));
  if (!Record(r, r.sigterm.pgrt, SigtermToExit(node), "SIGTERM to exit", node)) return;

  // A fresh pgrt process for the crash: restart backoff counts crashes per process.
  if (StartToQuery(node, kStartTimeout) < 0) {
    Record(r, r.kill9.pgrt, -1, "start before kill -9", node);
    return;
  }
  std::this_thread::sleep_for(kIdle / 2);
  Record(r, r.kill9.pgrt, Kill9ToQuery(node), "kill -9 to query", node);
  node.Stop(SIGTERM, kStopTimeout);
}

void RunBareRepetition(Results& r) {
  BareCluster bare;
  if (!RecordBare(r, bare.Prepare(), "prepare", bare)) return;

  auto t0 = Clock::now();
  Status st = bare.Initdb();
  if (st.ok()) st = bare.Start();
  if (st.ok()) st = bare.CreateDb();
  if (st.ok()) st = bare.QueryOnce();
  if (!RecordBare(r, st, "first boot", bare)) return;
  r.first_boot.baseline.push_back(SecondsSince(t0));
  if (!RecordBare(r, bare.Stop(), "stop", bare)) return;

  t0 = Clock::now();
  st = bare.Start();
  if (st.ok()) st = bare.QueryOnce();
  if (!RecordBare(r, st, "restart", bare)) return;
  double restart = SecondsSince(t0);
  r.restart.baseline.push_back(restart);
  r.kill9.baseline.push_back(restart);

  std::this_thread::sleep_for(kIdle);
  r.idle_rss.baseline.push_back(static_cast<double>(VmRssKb(bare.PostmasterPid())));
  t0 = Clock::now();
  if (!RecordBare(r, bare.Stop(), "stop -m fast", bare)) return;
  r.sigterm.baseline.push_back(SecondsSince(t0));
}

}  // namespace pgrt::bench
