#include "sleep_bench.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

#include "bare_cluster.h"
#include "harness/harness.h"
#include "probes.h"
#include "process/child.h"
#include "report.h"

namespace pgrt::bench {
namespace {

using testing::Env;
using testing::PgrtNode;
constexpr char kToken[] = "bench-token";

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::max(1, std::atoi(v)) : fallback;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string Ms(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", s * 1000);
  return buf;
}

// Bare postgres on its data directory: spawned, then polled with fresh connections until a
// query answers; stopped (fast) before the next round. Seconds from spawn to the answer.
std::vector<double> BareWakes(int n, std::vector<std::string>& errors) {
  BareCluster bare;
  if (Status st = bare.Prepare(); !st.ok())
    return errors.push_back(st.message()), std::vector<double>{};
  // initdb, then the database the clients use (createdb needs a running server).
  Status st = bare.Initdb();
  if (st.ok()) st = bare.Start();
  if (st.ok()) st = bare.CreateDb();
  if (st.ok()) st = bare.Stop();
  if (!st.ok()) return errors.push_back(st.message()), std::vector<double>{};
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    const auto start = Clock::now();
    auto pm = bare.SpawnPostgres();
    if (!pm.ok()) {
      errors.push_back(pm.status().message());
      break;
    }
    if (WaitForQuery(bare.Conn(), milliseconds(10000), milliseconds(1)))
      out.push_back(SecondsSince(start));
    else
      errors.push_back("bare postgres did not answer");
    pm->Signal(SIGINT).IgnoreError();
    WaitProcessGone(pm->pid(), milliseconds(30000));
  }
  return out;
}

// A client's first query on a sleeping pgrt node: connect (held at the door) and SELECT 1;
// through PgBouncer's port when `pooler_port` is set (PgBouncer sleeps with postgres).
std::vector<double> PgrtWakes(PgrtNode& node, int n, std::vector<std::string>& errors,
                              int pooler_port = 0) {
  ConnParams params = node.Conn();
  if (pooler_port != 0) params["port"] = std::to_string(pooler_port);
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    auto slept = testing::HttpRequest(node.api_port(), "POST", "/__opr/hibernate", kToken);
    if (slept.status != 200) {
      errors.push_back("hibernate: " + slept.body);
      break;
    }
    const auto start = Clock::now();
    auto conn = PgConn::Connect(params);
    if (conn.ok() && conn->Exec("SELECT 1").ok())
      out.push_back(SecondsSince(start));
    else
      errors.push_back("wake: " +
                       (conn.ok() ? std::string("query failed") : conn.status().message()));
  }
  return out;
}

// postgres's private port, from pgrt's log line (a node that relays every client).
int PrivatePort(const PgrtNode& node) {
  std::smatch m;
  const std::string log = node.Log();
  static const std::regex re("postgres listens on 127\\.0\\.0\\.1:([0-9]+)");
  return std::regex_search(log, m, re) ? std::stoi(m[1]) : 0;
}

// Context switches of `pid` (voluntary + not): how often it woke up.
long Switches(pid_t pid) {
  long v = StatusFieldKb(pid, "voluntary_ctxt_switches");
  long nv = StatusFieldKb(pid, "nonvoluntary_ctxt_switches");
  return v < 0 || nv < 0 ? -1 : v + nv;
}

// A node of pgrt without the shim beside its binary (a copy of it elsewhere): it relays
// every client, the way every node did before the handoff.
void UseRelayingCopy(PgrtNode& node) {
  const std::string bin = node.dir() + "/bin";
  std::filesystem::create_directories(bin);
  std::filesystem::copy_file(testing::PgrtBinary(), bin + "/pgrt");
  node.set_launcher({"/bin/sh", "-c", "shift; exec " + bin + "/pgrt \"$@\"", "sh"});
}

bool InitPgbench(const PgrtNode& node, std::vector<std::string>& errors) {
  auto init =
      testing::RunCommand({"/usr/lib/postgresql/15/bin/pgbench", "-i", "-q", "-s", "5", "-h",
                           "127.0.0.1", "-p", std::to_string(node.pg_port()), "-U", "app", "appdb"},
                          {{"PGPASSWORD", node.password()}});
  if (init.exit_code != 0) errors.push_back("pgbench -i: " + init.output);
  return init.exit_code == 0;
}

}  // namespace

int RunSleepBench() {
  const int wakes = EnvInt("PGRT_BENCH_WAKES", 20);
  const int seconds = EnvInt("PGRT_BENCH_POOL_SECONDS", 5);
  const int reps = EnvInt("PGRT_BENCH_REPS", 3);
  std::vector<std::string> errors;

  PgrtNode node(Env{{"PGRT_IDLE_TIMEOUT", "3600"}, {"PGRT_API_TOKEN", kToken}});
  node.Start();
  if (!node.WaitHealthy()) {
    std::cerr << node.Log();
    return 1;
  }
  // With the handoff postgres listens on the client port itself and on 127.0.0.4 at the same
  // port, which pgrt does not hold: that address is "direct".
  const bool handoff = node.Log().find("shares port") != std::string::npos;
  if (!handoff) errors.push_back("the node does not share its port with postgres (no shim?)");
  InitPgbench(node, errors);
  // The relay, as before the handoff: the same node without the shim, against its own
  // private port.
  PgrtNode relaying(Env{{"PGRT_IDLE_TIMEOUT", "3600"}, {"PGRT_API_TOKEN", kToken}});
  UseRelayingCopy(relaying);
  relaying.Start();
  if (!relaying.WaitHealthy()) {
    std::cerr << relaying.Log();
    return 1;
  }
  const int relay_private_port = PrivatePort(relaying);
  InitPgbench(relaying, errors);

  // The same with PgBouncer: its clients come through PgBouncer's port.
  const int pooler_port = testing::FreePort();
  PgrtNode pooled(Env{{"PGRT_IDLE_TIMEOUT", "3600"},
                      {"PGRT_API_TOKEN", kToken},
                      {"PGBOUNCER_ENABLED", "true"},
                      {"PGBOUNCER_PORT", std::to_string(pooler_port)}});
  pooled.Start();
  if (!pooled.WaitHealthy()) {
    std::cerr << pooled.Log();
    return 1;
  }

  // Wakes, bare first then pgrt, then pgrt through PgBouncer, alternating halves so drift
  // hits all.
  std::vector<double> bare = BareWakes(wakes / 2, errors);
  std::vector<double> pgrt = PgrtWakes(node, wakes / 2, errors);
  std::vector<double> pooler = PgrtWakes(pooled, wakes / 2, errors, pooler_port);
  auto bare2 = BareWakes(wakes - wakes / 2, errors);
  auto pgrt2 = PgrtWakes(node, wakes - wakes / 2, errors);
  auto pooler2 = PgrtWakes(pooled, wakes - wakes / 2, errors, pooler_port);
  bare.insert(bare.end(), bare2.begin(), bare2.end());
  pgrt.insert(pgrt.end(), pgrt2.begin(), pgrt2.end());
  pooler.insert(pooler.end(), pooler2.begin(), pooler2.end());
  pooled.Stop(SIGTERM);
  const double bare_med = Median(bare), pgrt_med = Median(pgrt), pooler_med = Median(pooler);
  std::cout << "wake: first query on a sleeping node, median " << Ms(pgrt_med) << ", p99 "
            << Ms(Percentile(pgrt, 0.99)) << " (" << pgrt.size() << " wakes); bare postgres spawn "
            << "→ first query " << Ms(bare_med) << " (" << bare.size() << ")\n";
  std::cout << "wake: pgrt − bare = " << Ms(pgrt_med - bare_med) << " (target ≤ 50 ms); p99/median "
            << Percentile(pgrt, 0.99) / pgrt_med << " (target ≤ 2)\n";
  std::cout << "wake through PgBouncer: first query on a sleeping node, median " << Ms(pooler_med)
            << ", p99 " << Ms(Percentile(pooler, 0.99)) << " (" << pooler.size()
            << " wakes); − bare = " << Ms(pooler_med - bare_med)
            << "; − through postgres's door = " << Ms(pooler_med - pgrt_med) << "\n";

  // Steady state, alternating in each rep: postgres direct, the client port with the
  // handoff, socat in front of postgres; the relaying node's private port and client port.
  testing::TempDir scratch;
  const int socat_port = testing::FreePort();
  auto socat = Child::Spawn(SpawnSpec{
      .name = "socat",
      .argv = {"/usr/bin/socat",
               "TCP-LISTEN:" + std::to_string(socat_port) + ",bind=127.0.0.1,fork,reuseaddr",
               "TCP:127.0.0.4:" + std::to_string(node.pg_port()) + ",nodelay"},
  });
  struct Load {
    const char* name;
    std::vector<std::string> args;
  };
  const Load loads[] = {
      {"select-only", {"-S"}}, {"tpcb-like", {}}, {"select-only -C", {"-S", "-C"}}};
  for (const Load& l : loads) {
    std::vector<double> direct, shared, relay, relay_direct, via_socat;
    for (int r = 0; r < reps; ++r) {
      direct.push_back(
          Pgbench(node.pg_port(), node.password(), l.args, seconds, errors, "127.0.0.4"));
      shared.push_back(Pgbench(node.pg_port(), node.password(), l.args, seconds, errors));
      if (socat.ok())
        via_socat.push_back(Pgbench(socat_port, node.password(), l.args, seconds, errors));
      relay_direct.push_back(
          Pgbench(relay_private_port, relaying.password(), l.args, seconds, errors));
      relay.push_back(Pgbench(relaying.pg_port(), relaying.password(), l.args, seconds, errors));
    }
    auto ratios = [](const std::vector<double>& a, const std::vector<double>& base) {
      std::vector<double> out;
      for (size_t i = 0; i < a.size() && i < base.size(); ++i)
        if (a[i] > 0 && base[i] > 0) out.push_back(a[i] / base[i]);
      return Median(out);
    };
    std::printf(
        "steady %-15s direct %.0f tps, handoff %.0f tps: %.2f × direct; relay %.2f × direct "
        "(%.0f of %.0f tps); socat %.2f × direct\n",
        l.name, Median(direct), Median(shared), ratios(shared, direct), ratios(relay, relay_direct),
        Median(relay), Median(relay_direct), ratios(via_socat, direct));
  }
  if (socat.ok()) {
    socat->Signal(SIGTERM).IgnoreError();
  }
  relaying.Stop(SIGTERM);

  // Asleep: memory and wake-ups of pgrt alone.
  testing::HttpRequest(node.api_port(), "POST", "/__opr/hibernate", kToken);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const pid_t pid = node.pid();
  const long before = Switches(pid);
  std::this_thread::sleep_for(std::chrono::seconds(10));
  const long after = Switches(pid);
  std::printf(
      "asleep: pgrt VmRSS %ld kB (target ≤ 10240), %.1f wake-ups/s over 10 s, postgres "
      "processes left: %s\n",
      VmRssKb(pid), static_cast<double>(after - before) / 10.0,
      node.PostmasterPid() > 0 ? "yes" : "none");
  for (const std::string& e : errors) std::cerr << "error: " << e.substr(0, 500) << "\n";
  return errors.empty() && !pgrt.empty() && !bare.empty() && !pooler.empty() ? 0 : 1;
}

}  // namespace pgrt::bench
