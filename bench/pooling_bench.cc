// The pooling and metrics benchmark (pooling_bench.h). One pgrt node with PgBouncer holds a
// pgbench database; a PgBouncer started by hand (as the postgres account, SCRAM secret in
// its auth_file) pools the same postgres with the same settings. Each repetition runs
// every pgbench workload against every target, in alternating order; pgrt is then
// restarted with PGBOUNCER_POOL_MODE=session and the hand pooler with the session ini.
// /metrics: pgrt's and prometheus-postgres-exporter's, scraped alternately after a warm-up.
#include "pooling_bench.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>

#include "harness/harness.h"
#include "probes.h"
#include "process/child.h"
#include "process/user.h"
#include "report.h"

namespace pgrt::bench {
namespace {

using testing::Env;
using testing::PgrtNode;

constexpr char kPgbench[] = "/usr/lib/postgresql/15/bin/pgbench";
constexpr char kPgbouncer[] = "/usr/sbin/pgbouncer";
constexpr char kExporter[] = "/usr/bin/prometheus-postgres-exporter";
constexpr int kPoolSize = 20, kMaxClientConn = 200, kScale = 5, kScrapes = 20;

int EnvInt(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  return std::clamp(v ? std::atoi(v) : fallback, lo, hi);
}

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// PgBouncer with the settings pgrt gives its own (docs/pooling-and-metrics.md), SCRAM
// secrets in an auth_file, as the postgres account, on a free loopback port.
class HandPgBouncer {
 public:
  HandPgBouncer(std::string pg_socket_dir, int pg_port, std::string userlist)
      : pg_socket_dir_(std::move(pg_socket_dir)),
        pg_port_(pg_port),
        userlist_(std::move(userlist)) {}
  ~HandPgBouncer() { Stop(); }

  int port() const { return port_; }
  std::string Log() const { return testing::ReadFileOrEmpty(dir_.Sub("pgbouncer.log")); }

  Status Start(const std::string& pool_mode) {
    Stop();
    std::optional<Credentials> who;
    if (::geteuid() == 0) {
      auto u = LookupUser("postgres");
      if (!u.ok()) return u.status();
      who = *u;
    }
    port_ = testing::FreePort();
    const std::string ini = dir_.Sub("pgbouncer.ini"), users = dir_.Sub("userlist.txt");
    testing::WriteFileOrDie(
        ini,
        "[databases]\n* = host=" + pg_socket_dir_ + " port=" + std::to_string(pg_port_) +
            "\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " + std::to_string(port_) +
            "\nunix_socket_dir = " + dir_.path() + "\nlogfile = " + dir_.Sub("pgbouncer.log") +
            "\nauth_type = scram-sha-256\nauth_file = " + users + "\npool_mode = " + pool_mode +
            "\nmax_client_conn = " + std::to_string(kMaxClientConn) +
            "\ndefault_pool_size = " + std::to_string(kPoolSize) +
            "\nmin_pool_size = 0\nreserve_pool_size = 0\nreserve_pool_timeout = 5"
            "\nserver_reset_query = DISCARD ALL\nserver_idle_timeout = 600"
            "\nserver_lifetime = 3600\nserver_login_retry = 1"
            "\nignore_startup_parameters = extra_float_digits"
            "\nlog_connections = 0\nlog_disconnections = 0\n",
        0600);
    testing::WriteFileOrDie(users, userlist_, 0600);
    for (const std::string& f : {ini, users, dir_.path()})
      if (who && ::chown(f.c_str(), who->uid, who->gid) != 0) return ErrnoStatus("chown " + f);
    SpawnSpec spec;
    spec.name = "hand pgbouncer";
    spec.argv = {kPgbouncer, ini};
    spec.run_as = who;
    auto child = Child::Spawn(spec);
    if (!child.ok()) return child.status();
    child_.emplace(std::move(*child));
    bool up = testing::WaitUntil(
        [&] { return ::access(dir_.Sub(".s.PGSQL." + std::to_string(port_)).c_str(), F_OK) == 0; },
        milliseconds(15000));
    return up ? Status::Ok() : Status::Error("hand pgbouncer did not start: " + Log());
  }

  void Stop() {
    if (!child_) return;
    pid_t pid = child_->pid();
    child_->Signal(SIGTERM).IgnoreError();
    testing::WaitUntil([&] { return !testing::ProcessAlive(pid); }, milliseconds(5000));
    child_.reset();  // reaps (kills first when still running)
  }

 private:
  testing::TempDir dir_;
  std::string pg_socket_dir_;
  int pg_port_;
  std::string userlist_;
  int port_ = 0;
  std::optional<Child> child_;
};

struct Tps {
  std::map<std::string, std::vector<double>> by_target;  // target → samples
};

// "select_only  direct=12345  pgrt_pool=...  hand_pool=...  (TPS, medians)"
std::string TpsLine(const std::string& name, Tps& t) {
  std::string line = name;
  line.resize(std::max<size_t>(line.size(), 22), ' ');
  for (auto& [target, v] : t.by_target) line += "  " + target + "=" + Fmt("%.0f", Median(v));
  return line + "  (TPS, medians)";
}

// Median of per-repetition a/b; judged >= target (throughput) or <= target (time).
std::string RatioLine(const std::string& name, const std::vector<double>& a,
                      const std::vector<double>& b, double target, bool at_least) {
  std::vector<double> r;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (b[i] > 0) r.push_back(a[i] / b[i]);
  double m = Median(r);
  std::string line = name;
  line.resize(std::max<size_t>(line.size(), 30), ' ');
  line += "  ratio=" + (std::isnan(m) ? std::string("n/a") : Fmt("%.3f", m)) + "  runs=[";
  for (double x : r) line += " " + Fmt("%.3f", x);
  line += std::string(" ]  target") + (at_least ? ">=" : "<=") + Fmt("%.2f", target);
  if (std::isnan(m)) return line + "  ERROR";
  return line + ((at_least ? m >= target : m <= target) ? "  OK" : "  MISS");
}

void Push(std::vector<double>& v, double x) {
  if (x >= 0) v.push_back(x);
}

}  // namespace

int RunPoolingBench() {
  const int reps = EnvInt("PGRT_BENCH_REPS", 2, 1, 20);
  const int seconds = EnvInt("PGRT_BENCH_POOL_SECONDS", 5, 1, 120);
  std::vector<std::string> errors;
  PgrtNode node({{"PGBOUNCER_ENABLED", "true"},
                 {"PGBOUNCER_PORT", std::to_string(testing::FreePort())},
                 {"PGBOUNCER_POOL_MODE", "transaction"},
                 {"PGBOUNCER_DEFAULT_POOL_SIZE", std::to_string(kPoolSize)},
                 {"PGBOUNCER_MAX_CLIENT_CONN", std::to_string(kMaxClientConn)},
                 {"POSTGRES_SHARED_BUFFERS", "128MB"}});
  const int pool_port = std::stoi(node.env().at("PGBOUNCER_PORT"));
  auto pooler_up = [&](int port) {
    ConnParams p = node.Conn();
    p["port"] = std::to_string(port);
    return WaitForQuery(p, milliseconds(30000), milliseconds(50));
  };
  node.Start();
  if (!node.WaitHealthy(milliseconds(120000)) || !pooler_up(pool_port)) {
    std::cerr << "pgrt node with PgBouncer did not start:\n" << node.Log();
    return 1;
  }
  const std::string password = node.password();
  auto init =
      testing::RunCommand({kPgbench, "-i", "-q", "-s", std::to_string(kScale), "-h", "127.0.0.1",
                           "-p", std::to_string(node.pg_port()), "-U", "app", "appdb"},
                          {{"PGPASSWORD", password}});
  if (init.exit_code != 0) {
    std::cerr << "pgbench -i: " << init.output;
    return 1;
  }
  std::string secret = node.Query("SELECT rolpassword FROM pg_authid WHERE rolname = 'app'");
  if (secret.rfind("SCRAM-SHA-256$", 0) != 0) {
    std::cerr << "no SCRAM secret for app in pg_authid\n";
    return 1;
  }
  HandPgBouncer hand(node.env().at("PGRT_SOCKET_DIR"), node.pg_port(),
                     "\"app\" \"" + secret + "\"\n");
  if (Status st = hand.Start("transaction"); !st.ok()) {
    std::cerr << st.message() << "\n";
    return 1;
  }
  std::cout << "pgrt pooling bench  " << MachineLine() << "  reps=" << reps
            << "  pgbench -c 8 -j 2 -T " << seconds << " scale=" << kScale
            << "  pool_size=" << kPoolSize << " max_client_conn=" << kMaxClientConn << "\n"
            << std::flush;

  // --- /metrics: pgrt vs prometheus-postgres-exporter, same database, alternating.
  std::vector<double> pgrt_scrape, exp_scrape;
  size_t pgrt_lines = 0, exp_lines = 0, exp_samples = 0, pgrt_samples = 0;
  {
    const int exp_port = testing::FreePort();
    SpawnSpec spec;
    spec.name = "postgres_exporter";
    spec.argv = {kExporter, "--web.listen-address=127.0.0.1:" + std::to_string(exp_port)};
    spec.env = {{"DATA_SOURCE_NAME", "postgresql://app:" + password +
                                         "@127.0.0.1:" + std::to_string(node.pg_port()) +
                                         "/appdb?sslmode=disable"}};
    testing::TempDir exp_dir;
    const std::string exp_log = exp_dir.Sub("exporter.log");
    int fd = ::open(exp_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    spec.stdout_fd = spec.stderr_fd = fd;
    auto exporter = Child::Spawn(spec);
    if (fd >= 0) ::close(fd);
    if (!exporter.ok()) {
      errors.push_back("exporter: " + exporter.status().message());
    } else if (!testing::WaitUntil(
                   [&] { return testing::HttpGet(exp_port, "/metrics").status == 200; },
                   milliseconds(20000), milliseconds(100))) {
      errors.push_back("exporter did not answer: " + testing::ReadFileOrEmpty(exp_log));
    } else {
      auto count = [](const std::string& body, size_t& lines, size_t& samples) {
        lines = samples = 0;
        size_t start = 0;
        for (size_t nl; (nl = body.find('\n', start)) != std::string::npos; start = nl + 1) {
          ++lines;
          if (nl > start && body[start] != '#') ++samples;
        }
      };
      auto scrape = [&](int port, std::vector<double>* into, size_t& lines, size_t& samples) {
        auto t0 = Clock::now();
        auto r = testing::HttpGet(port, "/metrics");
        double s = SecondsSince(t0);
        if (r.status != 200) {
          errors.push_back("scrape :" + std::to_string(port) + " status " +
                           std::to_string(r.status));
          return;
        }
        if (into) into->push_back(s);
        count(r.body, lines, samples);
      };
      for (int i = 0; i < 3; ++i) {  // warm-up: connections, caches
        scrape(node.api_port(), nullptr, pgrt_lines, pgrt_samples);
        scrape(exp_port, nullptr, exp_lines, exp_samples);
      }
      for (int i = 0; i < kScrapes; ++i) {
        if (i % 2 == 0) {
          scrape(node.api_port(), &pgrt_scrape, pgrt_lines, pgrt_samples);
          scrape(exp_port, &exp_scrape, exp_lines, exp_samples);
        } else {
          scrape(exp_port, &exp_scrape, exp_lines, exp_samples);
          scrape(node.api_port(), &pgrt_scrape, pgrt_lines, pgrt_samples);
        }
      }
      pid_t pid = exporter->pid();
      exporter->Signal(SIGTERM).IgnoreError();
      testing::WaitUntil([&] { return !testing::ProcessAlive(pid); }, milliseconds(5000));
    }
  }  // the exporter's Child is reaped (killed first if still running) here
  std::cerr << "metrics done\n";

  // --- pgbench. Workloads × targets; order of targets alternates by repetition.
  struct Workload {
    const char* name;
    std::vector<std::string> args;
  };
  const Workload workloads[] = {
      {"select_only", {"-S"}}, {"tpcb_like", {}}, {"select_only_C", {"-S", "-C"}}};
  std::map<std::string, Tps> tps;  // "select_only" / "select_only.session" → targets
  auto run_phase = [&](bool session) {
    for (int i = 0; i < reps; ++i) {
      for (const Workload& w : workloads) {
        if (session && std::string(w.name) == "select_only_C") continue;
        std::vector<std::pair<std::string, int>> targets = {{"pgrt_pool", pool_port},
                                                            {"hand_pool", hand.port()}};
        if (!session) targets.insert(targets.begin(), {"direct", node.pg_port()});
        if (i % 2 == 1) std::reverse(targets.begin(), targets.end());
        Tps& t = tps[std::string(w.name) + (session ? ".session" : "")];
        for (auto& [name, port] : targets)
          Push(t.by_target[name], Pgbench(port, password, w.args, seconds, errors));
      }
      std::cerr << (session ? "session" : "transaction") << " repetition " << i + 1 << "/" << reps
                << " done\n";
    }
  };
  run_phase(false);
  // Session mode: pgrt restarted with PGBOUNCER_POOL_MODE=session, the hand pooler too.
  node.Stop();
  node.env()["PGBOUNCER_POOL_MODE"] = "session";
  node.Start();
  bool session_ok = node.WaitHealthy(milliseconds(120000)) && pooler_up(pool_port);
  if (Status st = hand.Start("session"); !st.ok()) {
    errors.push_back(st.message());
    session_ok = false;
  }
  if (session_ok)
    run_phase(true);
  else
    errors.push_back("session mode not measured:\n" + node.Log().substr(0, 3000));
  hand.Stop();
  node.Stop();

  // --- Report.
  std::cout << "throughput: median TPS per target; ratio: median of per-repetition ratios\n";
  for (auto& [name, t] : tps) std::cout << TpsLine(name, t) << "\n";
  auto& T = tps;
  std::cout << RatioLine("select_only pgrt/hand (tx)", T["select_only"].by_target["pgrt_pool"],
                         T["select_only"].by_target["hand_pool"], 0.98, true)
            << "\n"
            << RatioLine("tpcb_like pgrt/hand (tx)", T["tpcb_like"].by_target["pgrt_pool"],
                         T["tpcb_like"].by_target["hand_pool"], 0.98, true)
            << "\n"
            << RatioLine("select_only -C pgrt/hand (tx)", T["select_only_C"].by_target["pgrt_pool"],
                         T["select_only_C"].by_target["hand_pool"], 0.98, true)
            << "\n"
            << RatioLine("select_only pgrt/hand (session)",
                         T["select_only.session"].by_target["pgrt_pool"],
                         T["select_only.session"].by_target["hand_pool"], 0.98, true)
            << "\n"
            << RatioLine("tpcb_like pgrt/hand (session)",
                         T["tpcb_like.session"].by_target["pgrt_pool"],
                         T["tpcb_like.session"].by_target["hand_pool"], 0.98, true)
            << "\n"
            << RatioLine("select_only -C pgrt_pool/direct",
                         T["select_only_C"].by_target["pgrt_pool"],
                         T["select_only_C"].by_target["direct"], 1.15, true)
            << "\n"
            << RatioLine("select_only -C hand_pool/direct",
                         T["select_only_C"].by_target["hand_pool"],
                         T["select_only_C"].by_target["direct"], 1.15, true)
            << "\n";
  std::cout << "metrics_scrape  pgrt=" << Fmt("%.4fs", Median(pgrt_scrape))
            << "  exporter=" << Fmt("%.4fs", Median(exp_scrape)) << "  (median of " << kScrapes
            << " each after 3 warm-up)\n"
            << "metrics_lines   pgrt=" << pgrt_lines << " (" << pgrt_samples
            << " samples)  exporter=" << exp_lines << " (" << exp_samples << " samples)\n"
            << RatioLine("metrics_scrape pgrt/exporter", pgrt_scrape, exp_scrape, 0.5, false)
            << "\n";
  std::cout << "  pgrt_pool = pgrt's PgBouncer (auth_query through pgrt_pgbouncer); hand_pool ="
               " /usr/sbin/pgbouncer with the same pool settings, auth_file with the SCRAM"
               " secret;\n  direct = postgres's TCP port. Ratio lines pair scrapes i-th with"
               " i-th (alternating order).\n";
  for (const std::string& e : errors) std::cout << "\nERROR " << e << "\n";
  bool missing = pgrt_scrape.empty() || exp_scrape.empty();
  for (auto& [name, t] : tps)
    for (auto& [target, v] : t.by_target) missing = missing || v.empty();
  return missing || tps.empty() ? 1 : 0;
}

}  // namespace pgrt::bench
