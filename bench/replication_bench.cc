// The replication benchmark (replication_bench.h). One pgrt primary serves every
// repetition. Each repetition bootstraps a replica through `pgrt run` and one by hand
// (pg_basebackup -R + pg_ctl start, as the postgres account when root), alternating who
// goes first, each until its WAL receiver streams; then measures GET /primary on the
// primary and on a minimal Python server with the same wrk load; then the primary's
// idle memory. Every slot a replica used is dropped on the primary after it stops.
#include "replication_bench.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "bare_cluster.h"
#include "figures.h"
#include "harness/harness.h"
#include "pg/connection.h"
#include "probes.h"
#include "process/child.h"
#include "process/user.h"
#include "report.h"
#include "util/fs.h"

namespace pgrt::bench {
namespace {

using nlohmann::json;
using testing::Env;
using testing::PgrtNode;

constexpr char kReplPassword[] = "bench-repl-pw";
constexpr char kToken[] = "bench-token";
constexpr char kSharedBuffers[] = "32MB";  // both replica sides (and the primary)
constexpr milliseconds kStreamTimeout{180000};
constexpr int kWrkSeconds = 5;
constexpr int kWrkConnections = 16;

std::string SlotName(const char* side, int rep) {
  return std::string("bench_") + side + "_" + std::to_string(getpid()) + "_" + std::to_string(rep);
}

void DropSlot(const PgrtNode& primary, const std::string& slot) {
  std::string err;
  primary.Query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
      " WHERE slot_name = '" +
          slot + "' AND NOT active",
      &err);
}

// ---- replica bootstrap through pgrt ----------------------------------------------------

std::optional<double> PgrtBootstrap(const PgrtNode& primary, int rep, std::string& error) {
  const std::string slot = SlotName("pgrt", rep);
  PgrtNode replica({{"POSTGRES_REPLICATION_MODE", "replica"},
                    {"POSTGRES_REPLICATION_PASSWORD", kReplPassword},
                    {"POSTGRES_PRIMARY_HOST", "127.0.0.1"},
                    {"POSTGRES_PRIMARY_PORT", std::to_string(primary.pg_port())},
                    {"POSTGRES_REPLICATION_SLOT_NAME", slot},
                    {"POSTGRES_SHARED_BUFFERS", kSharedBuffers},
                    {"PGRT_API_TOKEN", kToken}});
  const auto t0 = Clock::now();
  replica.Start();
  bool ok = testing::WaitUntil(
      [&] {
        testing::HttpResponse r = replica.Get("/__opr/replication");
        if (r.status != 200) return false;
        json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
        return j.is_object() && j.contains("walReceiver") && j["walReceiver"].is_object() &&
               j["walReceiver"].value("status", "") == "streaming";
      },
      kStreamTimeout, milliseconds(5));
  const double elapsed = SecondsSince(t0);
  replica.Stop(SIGTERM, milliseconds(30000));
  DropSlot(primary, slot);
  if (!ok) {
    error = "pgrt replica did not stream within the timeout; log tail: " +
            replica.Log().substr(replica.Log().size() > 2000 ? replica.Log().size() - 2000 : 0);
    return std::nullopt;
  }
  return elapsed;
}

// ---- replica bootstrap by hand -----------------------------------------------------------

// A replica made with the stock tools, laid out like BareCluster (root dir owned by the
// run-as account, data, sockets, logs). The destructor stops a postmaster left running.
class BareReplica {
 public:
  BareReplica() : port_(testing::FreePort()) {
    root_ = dir_.Sub("bare");
    datadir_ = root_ + "/data";
    socket_dir_ = root_ + "/sock";
    passfile_ = root_ + "/pgpass";
    server_log_ = root_ + "/postgres.log";
    tool_log_ = dir_.Sub("tools.log");
  }
  ~BareReplica() {
    pid_t pid = PostmasterPidOf(datadir_);
    if (pid <= 0 || ::kill(pid, 0) != 0) return;
    ::kill(pid, SIGQUIT);
    if (!WaitProcessGone(pid, milliseconds(5000))) ::kill(pid, SIGKILL);
    WaitProcessGone(pid, milliseconds(5000));
  }

  Status Prepare(int primary_port) {
    if (::geteuid() == 0) {
      auto who = LookupUser("postgres");
      if (!who.ok()) return who.status().Wrap("bare replica");
      run_as_ = *who;
    }
    for (const std::string& d : {root_, socket_dir_}) {
      if (::mkdir(d.c_str(), 0700) != 0) return ErrnoStatus("mkdir " + d);
      PGRT_RETURN_IF_ERROR(Chown(d), "bare replica");
    }
    PGRT_RETURN_IF_ERROR(WriteFileAtomic(passfile_,
                                         "127.0.0.1:" + std::to_string(primary_port) +
                                             ":*:replicator:" + kReplPassword + "\n",
                                         0600),
                         "bare replica");
    return Chown(passfile_);
  }

  // pg_basebackup with the options pgrt's clone uses (fast checkpoint, no fsync of the
  // copy, its own slot), -R for the standby files.
  Status BaseBackup(int primary_port, const std::string& slot) {
    return RunTool(
        "pg_basebackup",
        {"-R", "-X", "stream", "-c", "fast", "--no-sync", "-C", "-S", slot, "-w", "-D", datadir_,
         "-h", "127.0.0.1", "-p", std::to_string(primary_port), "-U", "replicator"},
        {{"PGPASSFILE", passfile_}});
  }
  Status Start() {
    std::string opts = "-p " + std::to_string(port_) +
                       " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + socket_dir_ +
                       " -c shared_buffers=" + kSharedBuffers;
    return RunTool("pg_ctl",
                   {"start", "-w", "-t", "60", "-D", datadir_, "-l", server_log_, "-o", opts});
  }
  Status Stop() {
    return RunTool("pg_ctl", {"stop", "-w", "-t", "60", "-m", "fast", "-D", datadir_});
  }
  int port() const { return port_; }
  pid_t PostmasterPid() const { return PostmasterPidOf(datadir_); }
  std::string Log() const {
    return "== tools\n" + testing::ReadFileOrEmpty(tool_log_) + "== server\n" +
           testing::ReadFileOrEmpty(server_log_);
  }

 private:
  Status Chown(const std::string& path) {
    if (run_as_ && ::chown(path.c_str(), run_as_->uid, run_as_->gid) != 0)
      return ErrnoStatus("chown " + path);
    return Status::Ok();
  }
  // As BareCluster::RunTool: the tool as the run-as account, to completion, bounded.
  Status RunTool(const std::string& tool, std::vector<std::string> args, const Env& extra = {},
                 int timeout_s = 120) {
    return RunPgTool(tool, args, run_as_, root_, tool_log_, extra, timeout_s);
  }

  testing::TempDir dir_;
  std::optional<Credentials> run_as_;
  std::string root_, datadir_, socket_dir_, passfile_, server_log_, tool_log_;
  int port_;
};

bool BareStreaming(const PgrtNode& primary, int port) {
  ConnParams p = primary.Conn();  // the primary's roles came along in the base backup
  p["port"] = std::to_string(port);
  auto conn = PgConn::Connect(p);
  if (!conn.ok()) return false;
  auto r = conn->Exec("SELECT status FROM pg_stat_wal_receiver");
  return r.ok() && r->rows() == 1 && r->Get(0, 0) == "streaming";
}

std::optional<double> BareBootstrap(const PgrtNode& primary, int rep, std::string& error) {
  const std::string slot = SlotName("bare", rep);
  BareReplica bare;
  Status st = bare.Prepare(primary.pg_port());
  std::optional<double> out;
  if (st.ok()) {
    const auto t0 = Clock::now();
    st = bare.BaseBackup(primary.pg_port(), slot);
    if (st.ok()) st = bare.Start();
    if (st.ok()) {
      if (testing::WaitUntil([&] { return BareStreaming(primary, bare.port()); }, kStreamTimeout,
                             milliseconds(5)))
        out = SecondsSince(t0);
      else
        st = Status::Error("bare replica did not stream within the timeout");
    }
    (void)bare.Stop();
  }
  DropSlot(primary, slot);
  if (!st.ok()) error = "bare bootstrap: " + st.message() + "\n" + bare.Log();
  return out;
}

// ---- role-check throughput ----------------------------------------------------------------

struct WrkResult {
  double rps = NAN;
  double p99_ms = NAN;
  long non2xx = 0;
};

// "  99%    1.23ms" → milliseconds.
double ToMs(double v, const std::string& unit) {
  if (unit == "us") return v / 1000.0;
  if (unit == "s") return v * 1000.0;
  return v;
}

std::optional<WrkResult> RunWrk(int port, const std::string& path, std::string& error) {
  const long nproc = std::max(1L, std::min(4L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  testing::CommandOutput out = testing::RunCommand(
      {"/usr/bin/wrk", "-t", std::to_string(nproc), "-c", std::to_string(kWrkConnections), "-d",
       std::to_string(kWrkSeconds) + "s", "--timeout", "5s", "--latency",
       "http://127.0.0.1:" + std::to_string(port) + path},
      {{"PATH", "/usr/bin:/bin"}});
  if (out.exit_code != 0) {
    error = "wrk exit " + std::to_string(out.exit_code) + ": " + out.output;
    return std::nullopt;
  }
  WrkResult r;
  std::smatch m;
  if (std::regex_search(out.output, m, std::regex(R"(Requests/sec:\s+([0-9.]+))")))
    r.rps = std::stod(m[1]);
  if (std::regex_search(out.output, m, std::regex(R"(\n\s*99%\s+([0-9.]+)(us|ms|s)\b)")))
    r.p99_ms = ToMs(std::stod(m[1]), m[2]);
  if (std::regex_search(out.output, m, std::regex(R"(Non-2xx or 3xx responses:\s+([0-9]+))")))
    r.non2xx = std::stol(m[1]);
  if (std::isnan(r.rps) || std::isnan(r.p99_ms)) {
    error = "cannot parse wrk output: " + out.output;
    return std::nullopt;
  }
  return r;
}

// The baseline server: Python's ThreadingHTTPServer answering 200 with a tiny body, HTTP/1.1
// keep-alive like pgrt's API, each answer in one write with TCP_NODELAY (without, every
// answer waits out a delayed ACK: ~300 req/s).
constexpr char kPyServer[] = R"PY(
import sys
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # one answer, no 40 ms delayed-ACK stall
    wbufsize = 65536                # headers and body leave in one write (flushed per request)
    def do_GET(self):
        body = b'{"role":"primary"}\n'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(ThreadingHTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address):
        pass  # wrk resetting its connections at the end
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
)PY";

class PyServer {
 public:
  PyServer() : port_(testing::FreePort()) {
    SpawnSpec spec;
    spec.name = "python3";
    spec.argv = {"/usr/bin/python3", "-c", kPyServer, std::to_string(port_)};
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    auto c = Child::Spawn(spec);
    if (c.ok()) child_.emplace(std::move(*c));
  }
  ~PyServer() {
    if (!child_) return;
    (void)child_->Signal(SIGTERM);
    if (!WaitProcessGone(child_->pid(), milliseconds(5000))) (void)child_->Signal(SIGKILL);
    WaitProcessGone(child_->pid(), milliseconds(5000));
    (void)child_->Wait();
  }
  bool Ready() {
    return child_ &&
           testing::WaitUntil([&] { return testing::HttpGet(port_, "/primary").status == 200; },
                              milliseconds(10000), milliseconds(20));
  }
  int port() const { return port_; }

 private:
  int port_;
  std::optional<Child> child_;
};

// ---- printing ------------------------------------------------------------------------------

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Like FormatFigure, for figures in req/s (higher is better) and ms.
std::string FormatRate(const char* name, const Samples& s, double target) {
  const double p = Median(s.pgrt), b = Median(s.baseline), ratio = PairedRatio(s);
  std::string line = name;
  line.resize(std::max<size_t>(line.size(), 21), ' ');
  line += "  pgrt=" + Fmt("%.0f/s", p) + "  baseline=" + Fmt("%.0f/s", b) +
          "  ratio=" + (std::isnan(ratio) ? "n/a " : Fmt("%.2f", ratio)) +
          "  target>=" + Fmt("%.0f/s", target);
  if (std::isnan(p)) return line + "  ERROR";
  return line + (p >= target ? "  OK" : "  MISS");
}
std::string FormatMs(const char* name, const Samples& s, double target) {
  const double p = Median(s.pgrt), b = Median(s.baseline), ratio = PairedRatio(s);
  std::string line = name;
  line.resize(std::max<size_t>(line.size(), 21), ' ');
  line += "  pgrt=" + Fmt("%.2fms", p) + "  baseline=" + Fmt("%.2fms", b) +
          "  ratio=" + (std::isnan(ratio) ? "n/a " : Fmt("%.2f", ratio)) +
          "  target<=" + Fmt("%.2fms", target);
  if (std::isnan(p)) return line + "  ERROR";
  return line + (p <= target ? "  OK" : "  MISS");
}
std::string Runs(const Samples& s, const char* format) {
  std::string out = "    runs pgrt=[";
  for (double v : s.pgrt) out += " " + Fmt(format, v);
  out += " ]  baseline=[";
  for (double v : s.baseline) out += " " + Fmt(format, v);
  return out + " ]";
}

}  // namespace

int RunReplicationBench() {
  const int reps = RepsFromEnv(3, 100);
  std::cout << "pgrt replication bench  " << MachineLine() << "  reps=" << reps << "\n"
            << std::flush;

  Samples bootstrap, rps, p99, idle_rss;
  std::vector<double> pss;
  std::vector<std::string> errors;
  long non2xx = 0;

  PgrtNode primary({{"POSTGRES_REPLICATION_MODE", "primary"},
                    {"POSTGRES_REPLICATION_PASSWORD", kReplPassword},
                    {"POSTGRES_SHARED_BUFFERS", kSharedBuffers},
                    {"PGRT_API_TOKEN", kToken}});
  try {
    primary.Start();
  } catch (const std::exception& e) {
    std::cout << "ERROR cannot start the primary: " << e.what() << "\n";
    return 1;
  }
  if (!primary.WaitHealthy(milliseconds(120000))) {
    std::cout << "ERROR the primary did not become healthy\n" << primary.Log() << "\n";
    return 1;
  }
  const bool have_wrk = ::access("/usr/bin/wrk", X_OK) == 0;
  if (!have_wrk) errors.push_back("/usr/bin/wrk not installed: no role-check figures");

  for (int i = 0; i < reps; ++i) {
    const bool pgrt_first = i % 2 == 0;
    // 1. Replica bootstrap, both sides against the same primary, back to back.
    std::optional<double> p, b;
    std::string perr, berr;
    try {
      if (pgrt_first) {
        p = PgrtBootstrap(primary, i, perr);
        b = BareBootstrap(primary, i, berr);
      } else {
        b = BareBootstrap(primary, i, berr);
        p = PgrtBootstrap(primary, i, perr);
      }
    } catch (const std::exception& e) {
      perr += e.what();
    }
    if (p && b) {
      bootstrap.pgrt.push_back(*p);
      bootstrap.baseline.push_back(*b);
    }
    if (!perr.empty()) errors.push_back("repetition " + std::to_string(i + 1) + ": " + perr);
    if (!berr.empty()) errors.push_back("repetition " + std::to_string(i + 1) + ": " + berr);

    // 2. Role-check throughput.
    if (have_wrk) {
      PyServer py;
      if (!py.Ready()) {
        errors.push_back("the python baseline server did not answer");
      } else {
        std::string e1, e2;
        std::optional<WrkResult> wp, wb;
        if (pgrt_first) {
          wp = RunWrk(primary.api_port(), "/primary", e1);
          wb = RunWrk(py.port(), "/primary", e2);
        } else {
          wb = RunWrk(py.port(), "/primary", e2);
          wp = RunWrk(primary.api_port(), "/primary", e1);
        }
        if (wp && wb) {
          rps.pgrt.push_back(wp->rps);
          rps.baseline.push_back(wb->rps);
          p99.pgrt.push_back(wp->p99_ms);
          p99.baseline.push_back(wb->p99_ms);
          non2xx += wp->non2xx;
        }
        for (const std::string& e : {e1, e2})
          if (!e.empty()) errors.push_back(e);
      }
    }

    // 3. The primary's idle memory, after a quiet moment.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    long rss = VmRssKb(primary.pid()), ps = PssKb(primary.pid());
    if (rss > 0) idle_rss.pgrt.push_back(static_cast<double>(rss));
    if (ps > 0) pss.push_back(static_cast<double>(ps));
    std::cerr << "repetition " << i + 1 << "/" << reps << " done\n";
  }

  const FigureSpec boot{"replica_bootstrap", &bootstrap, Judge::kRatio, 1.10, "s"};
  const FigureSpec mem{"primary_idle_rss", &idle_rss, Judge::kAbsolute, 10.0, "MB"};
  std::cout << "pgrt, baseline: medians of " << reps
            << " repetitions; ratio: median of the per-repetition ratios pgrt/baseline\n"
            << FormatFigure(boot) << "\n"
            << FormatRate("role_check_rps", rps, 20000) << "\n"
            << FormatMs("role_check_p99", p99, 5.0) << "\n"
            << FormatFigure(mem) << "\n";

  std::cout << "\ndetails\n  replica_bootstrap\n"
            << FormatRuns(boot) << "\n  role_check_rps\n"
            << Runs(rps, "%.0f") << "\n  role_check_p99 (ms)\n"
            << Runs(p99, "%.2f") << "\n"
            << "    pgrt primary idle memory (median MB): VmRSS="
            << Fmt("%.1f", Median(idle_rss.pgrt) / 1024.0)
            << " PSS=" << Fmt("%.1f", Median(pss) / 1024.0) << "\n"
            << "    non-2xx answers from pgrt's /primary: " << non2xx << "\n"
            << "  baselines: replica_bootstrap = pg_basebackup -R -X stream -c fast --no-sync -C -S"
               " <slot> + pg_ctl start -w, until pg_stat_wal_receiver says streaming\n"
               "             (pgrt: `pgrt run` as a replica until /__opr/replication says"
               " streaming; shared_buffers="
            << kSharedBuffers << " on both sides);\n"
            << "             role_check = python3 ThreadingHTTPServer answering 200 (HTTP/1.1"
               " keep-alive), same wrk load: "
            << kWrkConnections << " connections, " << kWrkSeconds << " s;\n"
            << "             primary_idle_rss has no baseline (pgrt's own VmRSS)\n";

  for (const std::string& e : errors) std::cout << "\nERROR " << e << "\n";
  primary.Stop(SIGTERM, milliseconds(30000));
  bool missing = bootstrap.pgrt.empty() || idle_rss.pgrt.empty() || (have_wrk && rps.pgrt.empty());
  return missing ? 1 : 0;
}

}  // namespace pgrt::bench
