#include "lifecycle_bench.h"

#include <signal.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "log_timeline.h"
#include "report.h"
#include "sides.h"

namespace pgrt::bench {
namespace {

using testing::HttpRequest;
using testing::HttpResponse;

constexpr const char* kToken = "lifecycle-bench-token";
constexpr milliseconds kStartTimeout{60000};
constexpr milliseconds kStopTimeout{30000};
// Both sides idle this long before they are hibernated (pgrt's monitor observes every
// 100 ms for a while after a start, then every second) and before they are woken.
constexpr milliseconds kSettleAwake{1000};
constexpr milliseconds kSettleAsleep{300};
// No round starts after this: the mode stays within about three minutes on 2 cores.
constexpr std::chrono::seconds kBudget{150};

// The lines that tell where a step's time went, in the order they should come.
const std::vector<LogMarker> kPgrtWake = {
    {"waking", "node: hibernated → waking"},
    {"spawned", "postgres started (pid"},
    {"pg starting", "starting PostgreSQL"},
    {"pg ready", "database system is ready to accept connections"},
    {"pgrt ready", "postgres is ready (pid"},
    {"running", "node: waking → running"},
};
const std::vector<LogMarker> kBareWake = {
    {"pg starting", "starting PostgreSQL"},
    {"pg ready", "database system is ready to accept connections"},
};
const std::vector<LogMarker> kPgrtHibernate = {
    {"hibernating", "node: running → hibernating"},
    {"pg shutdown", "received fast shutdown request"},
    {"pg shut down", "database system is shut down"},
    {"hibernated", "node: hibernating → hibernated"},
};
const std::vector<LogMarker> kBareHibernate = {
    {"pg shutdown", "received fast shutdown request"},
    {"pg shut down", "database system is shut down"},
};

struct LifecycleResults {
  Samples first_boot;
  Samples hibernate;
  Samples wake;
  Phases boot_phases;       // pgrt's /__opr/timings
  Phases bare_boot_phases;  // each tool of the floor
  // Seconds from the start of each step to each moment (log lines and what the bench saw).
  Phases pgrt_wake, bare_wake, pgrt_hibernate, bare_hibernate;
  // The floor under any supervisor: postgres exec'd directly on the bare cluster, with the
  // same polling; paired with pgrt's wake and with pg_ctl's of the same round.
  Phases direct_wake;
  Samples wake_vs_direct, direct_vs_bare;
  std::vector<double> pgrt_datadir_kb, bare_datadir_kb;
  std::vector<std::string> errors;
};

WallTime WallNow() { return std::chrono::system_clock::now(); }

void AddMarks(Phases& into, const std::string& log, WallTime start,
              const std::vector<LogMarker>& markers) {
  for (const auto& [label, at] : MarkerOffsets(log, start, markers)) into[label].push_back(at);
}

// Bytes of the regular files under `dir`, in kB; -1 when it cannot be read.
double DirKb(const std::string& dir) {
  std::error_code ec;
  uintmax_t bytes = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;  // a file that went away meanwhile counts as empty
    if (!it->is_regular_file(entry_ec)) continue;
    uintmax_t size = it->file_size(entry_ec);
    if (!entry_ec) bytes += size;
  }
  return ec ? -1 : static_cast<double>(bytes) / 1024.0;
}

// A lifecycle request sent on a thread of its own, so the caller can watch postgres
// meanwhile; the answer comes once the node got where it was sent.
class Request {
 public:
  Request(const testing::PgrtNode& node, const std::string& path, Clock::time_point t0)
      : thread_([this, port = node.api_port(), path, t0] {
          answer_ = HttpRequest(port, "POST", path, kToken);
          answered_s_ = SecondsSince(t0);
        }) {}
  ~Request() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  // After Join().
  const HttpResponse& answer() const { return answer_; }
  double answered_s() const { return answered_s_; }

 private:
  HttpResponse answer_;
  double answered_s_ = -1;
  std::thread thread_;
};

// True once `pid` no longer exists at all: exited and reaped by its parent (pgrt).
bool WaitReaped(pid_t pid, milliseconds timeout) {
  return testing::WaitUntil([pid] { return ::kill(pid, 0) != 0 && errno == ESRCH; }, timeout,
                            milliseconds(1));
}

// POST /__opr/hibernate → the postmaster (its pid read from postmaster.pid before) has
// exited and been reaped, while pgrt answers /liveness.
Step HibernateToGone(PgrtSide& side, LifecycleResults& r) {
  testing::PgrtNode& node = side.node();
  const pid_t postmaster = PostmasterPidOf(node.pgdata());
  if (postmaster <= 0) return side.Failure("hibernate: no postmaster.pid");
  const size_t mark = node.LogSize();
  const WallTime wall0 = WallNow();
  const auto t0 = Clock::now();
  Request post(node, "/__opr/hibernate", t0);
  if (!WaitProcessGone(postmaster, kStopTimeout)) return side.Failure("hibernate: postgres stays");
  const double exited = SecondsSince(t0);
  if (!WaitReaped(postmaster, milliseconds(5000)))
    return side.Failure("hibernate: the postmaster was not reaped");
  const double gone = SecondsSince(t0);
  post.Join();
  if (node.Get("/liveness").status != 200) return side.Failure("hibernate: /liveness not 200");
  if (post.answer().status != 200)
    return side.Failure("hibernate answered " + std::to_string(post.answer().status) + " " +
                        post.answer().body);
  r.pgrt_hibernate["pm exited"].push_back(exited);
  r.pgrt_hibernate["pm reaped"].push_back(gone);
  r.pgrt_hibernate["answer"].push_back(post.answered_s());
  AddMarks(r.pgrt_hibernate, node.LogSince(mark), wall0, kPgrtHibernate);
  return {gone, ""};
}

// POST /__opr/wake of a hibernated node → the first SELECT 1 that succeeds on a fresh TCP
// connection (tried every 2 ms from the moment the request is sent).
Step WakeToQuery(PgrtSide& side, LifecycleResults& r) {
  testing::PgrtNode& node = side.node();
  const size_t mark = node.LogSize();
  const WallTime wall0 = WallNow();
  const auto t0 = Clock::now();
  Request post(node, "/__opr/wake", t0);
  if (!WaitForQuery(node.Conn(), kStartTimeout)) return side.Failure("wake to query");
  const double s = SecondsSince(t0);
  post.Join();
  if (post.answer().status != 200)
    return side.Failure("wake answered " + std::to_string(post.answer().status) + " " +
                        post.answer().body);
  r.pgrt_wake["query"].push_back(s);
  r.pgrt_wake["answer"].push_back(post.answered_s());
  AddMarks(r.pgrt_wake, node.LogSince(mark), wall0, kPgrtWake);
  return {s, ""};
}

Step BareHibernate(BareSide& bare, LifecycleResults& r) {
  const WallTime wall0 = WallNow();
  double exited = -1;
  Step s = bare.StopFast(&exited);
  if (!s.ok()) return s;
  if (exited >= 0) r.bare_hibernate["pm exited"].push_back(exited);
  r.bare_hibernate["pg_ctl"].push_back(s.value);
  AddMarks(r.bare_hibernate, bare.cluster().ServerLog(), wall0, kBareHibernate);
  return s;
}

Step BareWake(BareSide& bare, LifecycleResults& r) {
  const WallTime wall0 = WallNow();
  double pg_ctl = -1;
  Step s = bare.Restart(&pg_ctl);
  if (!s.ok()) return s;
  r.bare_wake["pg_ctl"].push_back(pg_ctl);
  r.bare_wake["query"].push_back(s.value);
  AddMarks(r.bare_wake, bare.cluster().ServerLog(), wall0, kBareWake);
  return s;
}

// postgres exec'd directly on the stopped bare cluster (no pg_ctl, no shell, no supervisor)
// → the first successful query, polled as for pgrt's wake; then stopped again (SIGINT).
Step DirectWake(BareSide& bare, LifecycleResults& r) {
  BareCluster& cluster = bare.cluster();
  const WallTime wall0 = WallNow();
  const auto t0 = Clock::now();
  auto postmaster = cluster.SpawnPostgres();
  if (!postmaster.ok()) return Failed("direct postgres: " + postmaster.status().message());
  const bool up = WaitForQuery(cluster.Conn(), kStartTimeout);
  const double s = SecondsSince(t0);
  // Fast shutdown. A failed signal is not checked here: the bounded wait below tells.
  postmaster->Signal(SIGINT).IgnoreError();
  if (!WaitProcessGone(postmaster->pid(), kStopTimeout))
    return Failed("direct postgres did not stop\n" + LogTail(cluster.Log()));
  if (auto ws = postmaster->Wait(); !ws.ok() || !up)
    return Failed("direct postgres: no query\n" + LogTail(cluster.Log()));
  r.direct_wake["query"].push_back(s);
  AddMarks(r.direct_wake, cluster.ServerLog(), wall0, kBareWake);
  return {s, ""};
}

Status Checkpoint(const ConnParams& params) {
  auto conn = PgConn::Connect(params);
  if (!conn.ok()) return conn.status().Wrap("checkpoint");
  if (auto r = conn->Exec("CHECKPOINT"); !r.ok()) return r.status().Wrap("checkpoint");
  return Status::Ok();
}

// One round: a fresh node and a fresh bare cluster through first boot, hibernate and
// wake, each pair back to back in the round's order.
void RunRound(LifecycleResults& r, bool pgrt_first) {
  PgrtSide pgrt(testing::Env{{"PGRT_API_TOKEN", kToken}});
  BareSide bare;
  if (Step s = bare.Prepare(); !s.ok()) return r.errors.push_back(s.error);
  auto pair = [&](Samples* into, const std::function<Step()>& p, const std::function<Step()>& b) {
    return RunPair(pgrt_first, into, r.errors, p, b);
  };
  if (!pair(
          &r.first_boot, [&] { return pgrt.FirstBoot(r.boot_phases); },
          [&] { return bare.FirstBoot(&r.bare_boot_phases); }))
    return;
  // Hibernation is asked of a node that is up in pgrt's eyes too, not of one still starting.
  if (!pgrt.node().WaitHealthy(kStartTimeout))
    return r.errors.push_back(pgrt.Failure("healthy after first boot").error);
  // Both checkpointed: the floor's createdb leaves its copy dirty in shared buffers, where
  // pgrt's temporary server already wrote its set-up out at its shutdown. Each shutdown
  // checkpoint then writes the same (nothing).
  for (const ConnParams& conn : {pgrt.node().Conn(), bare.cluster().Conn()}) {
    if (Status st = Checkpoint(conn); !st.ok()) return r.errors.push_back(st.message());
  }
  std::this_thread::sleep_for(kSettleAwake);
  if (!pair(
          &r.hibernate, [&] { return HibernateToGone(pgrt, r); },
          [&] { return BareHibernate(bare, r); }))
    return;
  r.pgrt_datadir_kb.push_back(DirKb(pgrt.node().pgdata()));
  r.bare_datadir_kb.push_back(DirKb(bare.cluster().datadir()));
  std::this_thread::sleep_for(kSettleAsleep);
  if (!pair(
          &r.wake, [&] { return WakeToQuery(pgrt, r); }, [&] { return BareWake(bare, r); }))
    return;
  // The floor, right after (a detail, not a figure): the bare cluster stopped again and
  // woken by exec'ing postgres itself.
  if (Step s = bare.StopQuietly(); !s.ok()) return r.errors.push_back(s.error);
  if (Step direct = DirectWake(bare, r); direct.ok()) {
    r.wake_vs_direct.pgrt.push_back(r.wake.pgrt.back());
    r.wake_vs_direct.baseline.push_back(direct.value);
    r.direct_vs_bare.pgrt.push_back(direct.value);
    r.direct_vs_bare.baseline.push_back(r.wake.baseline.back());
  } else {
    r.errors.push_back(direct.error);
  }
  if (Step s = pgrt.StopQuietly(); !s.ok()) r.errors.push_back(s.error);
}

// "    wake, pgrt (median ms after the POST): waking=1.0 pg starting=3.2 ... (7 of 7)"
std::string FormatMoments(const std::string& title, const Phases& moments,
                          const std::vector<std::string>& order) {
  std::string line = "    " + title + ":";
  char buf[96];
  for (const std::string& label : order) {
    auto it = moments.find(label);
    if (it == moments.end()) {
      line += " " + label + "=n/a";
      continue;
    }
    std::snprintf(buf, sizeof buf, " %s=%.1f", label.c_str(), Median(it->second) * 1000);
    line += buf;
  }
  return line;
}

// "    wake floor: pgrt's wake / the floor = 1.02 (runs 0.98 1.05 ...)"
std::string FormatRatio(const std::string& title, const Samples& s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", PairedRatio(s));
  std::string line = "    " + title + " = " + buf + " (runs";
  for (size_t i = 0; i < s.pgrt.size() && i < s.baseline.size(); ++i) {
    std::snprintf(buf, sizeof buf, " %.2f", s.baseline[i] > 0 ? s.pgrt[i] / s.baseline[i] : NAN);
    line += buf;
  }
  return line + ")";
}

std::vector<std::string> Labels(const std::vector<LogMarker>& markers,
                                std::vector<std::string> before, std::vector<std::string> after) {
  for (const LogMarker& m : markers) before.push_back(m.label);
  before.insert(before.end(), after.begin(), after.end());
  return before;
}

}  // namespace

int RunLifecycleBench() {
  const int rounds = RepsFromEnv(7, 20);
  std::cout << "pgrt bench lifecycle  " << MachineLine() << "  rounds=" << rounds << "\n"
            << std::flush;
  LifecycleResults r;
  const auto begin = Clock::now();
  int done = 0;
  for (int i = 0; i < rounds; ++i) {
    if (Clock::now() - begin > kBudget) {
      r.errors.push_back("time budget spent after " + std::to_string(done) + " rounds");
      break;
    }
    try {
      RunRound(r, /*pgrt_first=*/i % 2 == 0);
    } catch (const std::exception& e) {  // the harness throws when pgrt cannot be spawned
      r.errors.push_back("round " + std::to_string(i + 1) + ": " + e.what());
    }
    ++done;
    std::cerr << "round " << done << "/" << rounds << " done\n";
  }

  const FigureSpec figures[] = {
      {"wake_to_query", &r.wake, Judge::kRatio, 0.50, "s"},
      {"hibernate_to_gone", &r.hibernate, Judge::kRatio, 1.00, "s"},
      {"first_boot_to_query", &r.first_boot, Judge::kRatio, 0.80, "s"},
  };
  std::cout << "pgrt, baseline: medians over " << done
            << " rounds (a failed step drops its pair); ratio: median of the per-round ratios "
               "pgrt/baseline\n";
  for (const FigureSpec& f : figures) std::cout << FormatFigure(f) << "\n";

  std::cout << "\ndetails (" << static_cast<int>(SecondsSince(begin)) << " s)\n";
  for (const FigureSpec& f : figures) std::cout << "  " << f.name << "\n" << FormatRuns(f) << "\n";
  std::cout << FormatMoments("wake, pgrt (median ms after the POST)", r.pgrt_wake,
                             Labels(kPgrtWake, {}, {"query", "answer"}))
            << "\n"
            << FormatMoments("wake, baseline (median ms after pg_ctl start)", r.bare_wake,
                             Labels(kBareWake, {}, {"pg_ctl", "query"}))
            << "\n"
            << FormatMoments("wake floor, postgres exec'd directly (median ms after the exec)",
                             r.direct_wake, Labels(kBareWake, {}, {"query"}))
            << "\n"
            << FormatRatio("wake floor: pgrt's wake / the floor", r.wake_vs_direct) << "\n"
            << FormatRatio("wake floor: the floor / the baseline", r.direct_vs_bare) << "\n"
            << FormatMoments("hibernate, pgrt (median ms after the POST)", r.pgrt_hibernate,
                             Labels(kPgrtHibernate, {}, {"pm exited", "pm reaped", "answer"}))
            << "\n"
            << FormatMoments("hibernate, baseline (median ms after pg_ctl stop)", r.bare_hibernate,
                             Labels(kBareHibernate, {}, {"pm exited", "pg_ctl"}))
            << "\n"
            << FormatPhases("first boot, pgrt's own timings (median s)", r.boot_phases) << "\n"
            << FormatMoments("first boot, baseline (median ms per tool)", r.bare_boot_phases,
                             {"initdb", "start", "createdb", "query"})
            << "\n";
  char line[160];
  std::snprintf(line, sizeof line, "    data directories (median MB): pgrt %.1f, bare %.1f\n",
                Median(r.pgrt_datadir_kb) / 1024, Median(r.bare_datadir_kb) / 1024);
  std::cout
      << line
      << "  baselines: wake = pg_ctl start -w + psql SELECT 1 on the stopped bare cluster\n"
         "             (wake floor: postgres exec'd directly, same 2 ms polling, after the pair);\n"
         "             hibernate = pg_ctl stop -m fast -w;\n"
         "             first boot = initdb + pg_ctl start -w + createdb + psql SELECT 1\n";
  for (const std::string& e : r.errors) std::cout << "\nERROR " << e << "\n";
  bool missing = false;
  for (const FigureSpec& f : figures) missing = missing || f.samples->pgrt.empty();
  return missing ? 1 : 0;
}

}  // namespace pgrt::bench
