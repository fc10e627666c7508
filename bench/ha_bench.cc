#include "ha_bench.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include "ha_clusters.h"
#include "probes.h"
#include "report.h"

namespace pgrt::bench {
namespace {

using testing::HttpGet;
using testing::milliseconds;

constexpr milliseconds kSettleTimeout{180000};
constexpr milliseconds kWriteRetry{20};
constexpr std::chrono::seconds kQuiet{30};
// Patroni's rejoin and a default lease of 30 s with a 10 s loop: a failover can take most of
// a minute, so no write waits longer than this.
constexpr milliseconds kWriteTimeout{120000};
// The back-to-back writer of a switchover stops after this, whatever happened.
constexpr milliseconds kSwitchoverTimeout{120000};
constexpr size_t kMaxAcks = 2'000'000;

int EnvInt(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  return std::clamp(v ? std::atoi(v) : fallback, lo, hi);
}

// What a quiet cluster cost in one 30 s window.
struct QuietWindow {
  double etcd_per_node = NAN;  // RPCs started per node
  std::string etcd_methods;    // " LeaseKeepAlive=10.0 Range=3.0": the same, per method
  std::vector<double> cpu;     // s of each node's manager
};

// What one setup (a manager at one lease) measured.
struct SetupResult {
  HaSetup setup;
  std::vector<double> kill9, sigterm, switchover_gap, switchover_answer;
  // 30 s of a quiet cluster: before HAProxy starts (no client, no check), and with HAProxy
  // checking GET /primary on every node 5 times a second.
  QuietWindow idle, checked;
  std::vector<double> cpu;  // s of each node's manager in the quiet window
  std::vector<std::string> errors;
};

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string List(const std::vector<double>& v, const char* format = "%.3f") {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + Fmt(format, v[i]);
  return s + "]";
}

// One INSERT acknowledged through `front`, on a fresh connection; the port of the server
// that acknowledged it (inet_server_port, as postgres knows itself), 0 on failure.
int WriteOnce(const ConnParams& front) {
  auto conn = PgConn::Connect(front);
  if (!conn.ok()) return 0;
  auto r = conn->Exec("INSERT INTO ha_bench VALUES (1) RETURNING inet_server_port()");
  if (!r.ok() || r->rows() != 1) return 0;
  return std::atoi(r->Get(0, 0).c_str());
}

// Retries a write every 20 ms until a server other than `old_port` acknowledges one: the
// seconds since `t0`, -1 on timeout. (A stopping leader may still take writes for a moment;
// the figure is when the next leader does.)
double FirstWriteElsewhere(const ConnParams& front, int old_port, Clock::time_point t0) {
  while (Clock::now() - t0 < kWriteTimeout) {
    const int port = WriteOnce(front);
    if (port != 0 && port != old_port) return SecondsSince(t0);
    std::this_thread::sleep_for(kWriteRetry);
  }
  return -1;
}

// A back-to-back writer on one connection through HAProxy, reconnecting on error; records
// when each write was acknowledged and by which server.
class Writer {
 public:
  struct Ack {
    Clock::time_point at;
    int port;
  };
  explicit Writer(ConnParams front) : front_(std::move(front)), thread_([this] { Run(); }) {}
  ~Writer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // After Stop().
  const std::vector<Ack>& acks() const { return acks_; }
  // Whether a server other than `port` has acknowledged a write yet.
  bool SeenOtherThan(int port) {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_other_ != 0 && seen_other_ != port;
  }

 private:
  void Run() {
    const auto t0 = Clock::now();
    std::optional<PgConn> conn;
    int port = 0;
    while (!stop_ && Clock::now() - t0 < kSwitchoverTimeout && acks_.size() < kMaxAcks) {
      if (!conn) {
        auto c = PgConn::Connect(front_);
        auto p = c.ok() ? c->Exec("SELECT inet_server_port()") : Result<PgResult>(c.status());
        if (!p.ok() || p->rows() != 1) {
          std::this_thread::sleep_for(milliseconds(5));
          continue;
        }
        port = std::atoi(p->Get(0, 0).c_str());
        conn.emplace(std::move(*c));
      }
      if (!conn->Exec("INSERT INTO ha_bench VALUES (2)").ok()) {
        conn.reset();
        continue;
      }
      acks_.push_back({Clock::now(), port});
      std::lock_guard<std::mutex> lock(mu_);
      if (acks_.size() == 1) first_port_ = port;
      if (port != first_port_) seen_other_ = port;
    }
  }

  ConnParams front_;
  std::atomic<bool> stop_{false};
  std::vector<Ack> acks_;
  std::mutex mu_;
  int first_port_ = 0, seen_other_ = 0;
  std::thread thread_;
};

class SetupRun {
 public:
  SetupRun(const HaSetup& setup, Etcd& etcd, int trials)
      : etcd_(etcd), trials_(trials), cluster_(MakeCluster(setup, etcd)) {
    result_.setup = setup;
  }

  SetupResult Run(bool kill_only) {
    std::cerr << result_.setup.Label() << ": starting\n";
    if (!Prepare(!kill_only)) return result_;
    // A failed step leaves the cluster in a state no later trial could start from: the
    // setup ends there (its error is reported).
    if (!kill_only) {
      Quiet(result_.checked, "checked");
      for (int t = 0; t < trials_ && !failed_ && Switchover(t); ++t) {
      }
      for (int t = 0; t < trials_ && !failed_ && Sigterm(t); ++t) {
      }
    }
    for (int t = 0; t < trials_ && !failed_ && Kill9(t); ++t) {
    }
    return result_;
  }

 private:
  bool Fail(const std::string& what) {
    failed_ = true;
    // What each node answered at that moment, then every node's whole log (on stderr: a
    // failure is worth reading in full).
    std::string states;
    for (int i = 0; i < 3; ++i)
      states += " " + cluster_->Name(i) +
                ": /primary=" + std::to_string(HttpGet(cluster_->api_port(i), "/primary").status) +
                " /replica=" + std::to_string(HttpGet(cluster_->api_port(i), "/replica").status);
    result_.errors.push_back(result_.setup.Label() + ": " + what + " (" + states + " )");
    std::cerr << "ERROR " << result_.errors.back() << "\n" << cluster_->Logs() << "\n";
    return false;
  }
  ConnParams Direct(int i) const {
    ConnParams p = cluster_->ConnBase();
    p["host"] = "127.0.0.1";
    p["port"] = std::to_string(cluster_->pg_port(i));
    p["connect_timeout"] = "2";
    return p;
  }

  bool Prepare(bool quiet) {
    if (Status st = cluster_->StartAll(); !st.ok()) return Fail("start: " + st.message());
    leader_ = cluster_->WaitSettled(kSettleTimeout);
    if (leader_ < 0) return Fail("the cluster did not settle");
    if (quiet) Quiet(result_.idle, "idle");
    auto conn = PgConn::Connect(Direct(leader_));
    if (!conn.ok() || !conn->Exec("CREATE TABLE ha_bench (v int)").ok())
      return Fail("cannot create the table on the leader");
    if (Status st = haproxy_.Start(); !st.ok()) return Fail("haproxy: " + st.message());
    front_ = cluster_->ConnBase();
    front_["host"] = "127.0.0.1";
    front_["port"] = std::to_string(haproxy_.port());
    front_["connect_timeout"] = "1";
    if (!testing::WaitUntil([&] { return WriteOnce(front_) != 0; }, milliseconds(20000),
                            kWriteRetry))
      return Fail("no write through haproxy");
    return true;
  }

  // After a trial: every node runs again, one leads, the others replicate.
  bool Settle(int restarted) {
    if (restarted >= 0)
      if (Status st = cluster_->Restart(restarted); !st.ok())
        return Fail("restart: " + st.message());
    leader_ = cluster_->WaitSettled(kSettleTimeout);
    if (leader_ < 0) return Fail("the cluster did not settle after a trial");
    // Through HAProxy too, so the next trial starts from a routed leader.
    if (!testing::WaitUntil([&] { return WriteOnce(front_) == cluster_->pg_port(leader_); },
                            milliseconds(20000), kWriteRetry))
      return Fail("haproxy does not route to the leader");
    return true;
  }

  void Quiet(QuietWindow& w, const char* what) {
    std::this_thread::sleep_for(std::chrono::seconds(5));  // start-up work is over
    std::vector<pid_t> pids;
    std::vector<double> cpu0;
    for (int i = 0; i < 3; ++i) {
      pids.push_back(cluster_->ManagerPid(i));
      cpu0.push_back(CpuSeconds(pids.back()));
    }
    const auto etcd0 = etcd_.RequestsByMethod();
    std::this_thread::sleep_for(kQuiet);
    const auto etcd1 = etcd_.RequestsByMethod();
    for (int i = 0; i < 3; ++i) {
      const double c1 = CpuSeconds(pids[i]);
      if (cpu0[i] >= 0 && c1 >= 0) w.cpu.push_back(c1 - cpu0[i]);
    }
    if (!etcd0.empty() && !etcd1.empty()) {
      double total = 0;
      for (const auto& [method, n] : etcd1) {
        auto before = etcd0.find(method);
        const double delta = n - (before == etcd0.end() ? 0 : before->second);
        if (delta <= 0) continue;
        total += delta;
        w.etcd_methods += " " + method + "=" + Fmt("%.1f", delta / 3);
      }
      w.etcd_per_node = total / 3;
    }
    std::cerr << result_.setup.Label() << ": quiet " << what << " etcd/node=" << w.etcd_per_node
              << " (" << w.etcd_methods << " ) cpu=" << List(w.cpu) << "\n";
  }

  bool Switchover(int t) {
    const int old = leader_, to = (leader_ + 1) % 3;
    const int old_port = cluster_->pg_port(old);
    Writer writer(front_);
    std::this_thread::sleep_for(milliseconds(1000));
    const auto asked = Clock::now();
    const int status = cluster_->Switchover(old, to);
    const double answered = SecondsSince(asked);
    testing::WaitUntil([&] { return writer.SeenOtherThan(old_port); }, kSwitchoverTimeout,
                       milliseconds(10));
    std::this_thread::sleep_for(milliseconds(200));
    writer.Stop();
    if (status != 200) return Fail("switchover answered " + std::to_string(status));
    // The last write the old leader acknowledged, and the first another one did after it.
    const auto& acks = writer.acks();
    auto first_new = std::find_if(acks.begin(), acks.end(), [&](const Writer::Ack& a) {
      return a.port != old_port && a.at >= asked;
    });
    if (first_new == acks.end()) return Fail("no write on the new leader after a switchover");
    auto last_old = std::find_if(std::make_reverse_iterator(first_new), acks.rend(),
                                 [&](const Writer::Ack& a) { return a.port == old_port; });
    if (last_old == acks.rend()) return Fail("no write on the old leader before a switchover");
    const double gap = std::chrono::duration<double>(first_new->at - last_old->at).count();
    result_.switchover_gap.push_back(gap);
    result_.switchover_answer.push_back(answered);
    std::cerr << result_.setup.Label() << ": switchover " << t + 1 << " gap=" << Fmt("%.3f", gap)
              << "s answered=" << Fmt("%.3f", answered) << "s writes=" << acks.size() << "\n";
    return Settle(-1);
  }

  bool Sigterm(int t) {
    const int old = leader_;
    const pid_t manager = cluster_->ManagerPid(old);
    if (manager <= 0) return Fail("no manager pid");
    const auto t0 = Clock::now();
    ::kill(manager, SIGTERM);
    const double s = FirstWriteElsewhere(front_, cluster_->pg_port(old), t0);
    cluster_->Reap(old);
    if (s < 0) return Fail("no write after a SIGTERM of the leader");
    result_.sigterm.push_back(s);
    std::cerr << result_.setup.Label() << ": sigterm " << t + 1 << " " << Fmt("%.3f", s) << "s\n";
    return Settle(old);
  }

  bool Kill9(int t) {
    const int old = leader_;
    const pid_t manager = cluster_->ManagerPid(old);
    const pid_t postmaster = cluster_->PostmasterPid(old);
    if (manager <= 0 || postmaster <= 0) return Fail("no manager or postmaster pid");
    const auto t0 = Clock::now();
    ::kill(manager, SIGKILL);
    ::kill(postmaster, SIGKILL);
    const double s = FirstWriteElsewhere(front_, cluster_->pg_port(old), t0);
    cluster_->Reap(old);
    // The postmaster's children (backends, walsender...) leave once it is gone.
    WaitProcessGone(postmaster, milliseconds(10000));
    if (s < 0) return Fail("no write after a kill -9 of the leader");
    result_.kill9.push_back(s);
    std::cerr << result_.setup.Label() << ": kill9 " << t + 1 << " " << Fmt("%.3f", s) << "s\n";
    return Settle(old);
  }

  Etcd& etcd_;
  int trials_;
  std::unique_ptr<HaCluster> cluster_;
  Haproxy haproxy_{*cluster_};
  ConnParams front_;
  int leader_ = -1;
  bool failed_ = false;
  SetupResult result_;
};

// "kill9_to_write  pgrt=3.30s  patroni=9.10s  ratio=0.36" (medians; ratio: median of the
// per-trial ratios) and each trial.
void PrintFigure(const char* name, const std::vector<double>& pgrt,
                 const std::vector<double>& patroni, const char* unit = "s") {
  const double ratio = PairedRatio({pgrt, patroni});
  std::string line = name;
  line.resize(std::max<size_t>(line.size(), 22), ' ');
  std::cout << line << "  pgrt=" << Fmt("%.3f", Median(pgrt)) << unit
            << "  patroni=" << Fmt("%.3f", Median(patroni)) << unit
            << "  ratio=" << (std::isnan(ratio) ? "n/a" : Fmt("%.2f", ratio)) << "\n"
            << "      trials pgrt=" << List(pgrt) << "  patroni=" << List(patroni) << "\n";
}

void PrintQuiet(const std::string& what, const QuietWindow& p, const QuietWindow& q) {
  auto one = [](double v) { return std::isnan(v) ? std::vector<double>{} : std::vector{v}; };
  PrintFigure(("quiet_" + what + "_etcd_rpcs").c_str(), one(p.etcd_per_node), one(q.etcd_per_node),
              "");
  std::cout << "      per node and method pgrt:" << p.etcd_methods << "  patroni:" << q.etcd_methods
            << "\n";
  // The nodes of one cluster are not paired with the other's: a ratio of medians.
  const double cpu_ratio = Median(p.cpu) / Median(q.cpu);
  std::string line = "quiet_" + what + "_cpu";
  line.resize(std::max<size_t>(line.size(), 22), ' ');
  std::cout << line << "  pgrt=" << Fmt("%.3f", Median(p.cpu))
            << "s  patroni=" << Fmt("%.3f", Median(q.cpu))
            << "s  ratio=" << (std::isnan(cpu_ratio) ? "n/a" : Fmt("%.2f", cpu_ratio)) << "\n"
            << "      nodes pgrt=" << List(p.cpu) << "  patroni=" << List(q.cpu) << "\n";
}

void PrintComparison(const std::string& title, const SetupResult& p, const SetupResult& q) {
  std::cout << "\n" << title << ": " << p.setup.Label() << " vs " << q.setup.Label() << "\n";
  PrintFigure("kill9_to_write", p.kill9, q.kill9);
  PrintFigure("sigterm_to_write", p.sigterm, q.sigterm);
  PrintFigure("switchover_gap", p.switchover_gap, q.switchover_gap);
  PrintFigure("switchover_answered", p.switchover_answer, q.switchover_answer);
  PrintQuiet("idle", p.idle, q.idle);
  PrintQuiet("checked", p.checked, q.checked);
}

std::string LoadAverage() {
  std::string s = testing::ReadFileOrEmpty("/proc/loadavg");
  return s.substr(0, s.find(' ', s.find(' ', s.find(' ') + 1) + 1));
}

}  // namespace

int RunHaBench() {
  const int trials = EnvInt("PGRT_BENCH_HA_TRIALS", 3, 1, 20);
  // Patroni at the lowest lease that held a leader on this machine (3 s with a 1 s loop and
  // a 2 s retry; a 1 s retry lost the leader in every loop), pgrt at the same lease.
  const int equal_ttl = EnvInt("PGRT_BENCH_HA_EQUAL_TTL", 3, 2, 60);
  const int equal_loop = EnvInt("PGRT_BENCH_HA_EQUAL_LOOP_WAIT", 1, 1, 60);
  const int equal_retry = EnvInt("PGRT_BENCH_HA_EQUAL_RETRY", 2, 1, 60);
  std::cout << "pgrt bench ha  " << MachineLine() << "  trials=" << trials
            << "  loadavg(1/5/15 min) at start=" << LoadAverage() << "\n"
            << std::flush;

  Etcd etcd;
  if (Status st = etcd.Start(); !st.ok()) {
    std::cerr << st.message() << "\n";
    return 1;
  }
  const HaSetup setups[] = {
      {HaSetup::kPgrt, equal_ttl},
      {HaSetup::kPatroni, equal_ttl, equal_loop, equal_retry},
      {HaSetup::kPgrt, 10},             // pgrt's default PGRT_HA_TTL
      {HaSetup::kPatroni, 30, 10, 10},  // Patroni's defaults
  };
  std::vector<SetupResult> results;
  const auto t0 = Clock::now();
  // For a change to pgrt alone: its equal-lease figures, no peer (no ratios).
  if (const char* only = std::getenv("PGRT_BENCH_HA_PGRT_ONLY"); only && *only == '1') {
    SetupResult r = SetupRun(setups[0], etcd, trials).Run(false);
    std::cout << "\n"
              << r.setup.Label() << " alone\n"
              << "kill9_to_write=" << Fmt("%.3f", Median(r.kill9)) << "s " << List(r.kill9)
              << "\nsigterm_to_write=" << Fmt("%.3f", Median(r.sigterm)) << "s " << List(r.sigterm)
              << "\nswitchover_gap=" << Fmt("%.3f", Median(r.switchover_gap)) << "s "
              << List(r.switchover_gap) << "\nrun took " << Fmt("%.0f", SecondsSince(t0))
              << "s  loadavg at end=" << LoadAverage() << "\n";
    for (const std::string& e : r.errors) std::cout << "ERROR " << e << "\n";
    return r.switchover_gap.empty() ? 1 : 0;
  }
  for (const HaSetup& s : setups) results.push_back(SetupRun(s, etcd, trials).Run(false));
  // pgrt at the lease the HA tests use, when the equal lease is another one.
  std::optional<SetupResult> ttl3;
  if (equal_ttl != 3) ttl3 = SetupRun({HaSetup::kPgrt, 3}, etcd, trials).Run(true);

  PrintComparison("equal lease", results[0], results[1]);
  PrintComparison("defaults", results[2], results[3]);
  if (ttl3)
    std::cout << "\npgrt ttl=3 kill9_to_write=" << Fmt("%.3f", Median(ttl3->kill9))
              << "s  trials=" << List(ttl3->kill9) << "\n";
  std::cout << "\nrun took " << Fmt("%.0f", SecondsSince(t0))
            << "s  loadavg at end=" << LoadAverage() << "\n";

  bool missing = false;
  for (const SetupResult& r : results) {
    for (const std::string& e : r.errors) std::cout << "ERROR " << e << "\n";
    missing = missing || r.kill9.empty() || r.sigterm.empty() || r.switchover_gap.empty();
  }
  if (ttl3)
    for (const std::string& e : ttl3->errors) std::cout << "ERROR " << e << "\n";
  return missing ? 1 : 0;
}

}  // namespace pgrt::bench
