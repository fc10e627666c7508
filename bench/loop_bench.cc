#include "loop_bench.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <thread>

#include "harness/harness.h"
#include "probes.h"
#include "report.h"

namespace pgrt::bench {
namespace {

using std::chrono::milliseconds;
using testing::PgrtNode;

constexpr int kIdle = 1000;
constexpr int kSlowloris = 100;
constexpr int kProbes = 100;

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// p99 of kProbes alternating GETs of /__opr/health and /primary, in seconds; NaN when one
// got no answer.
double ProbeP99(const PgrtNode& node) {
  std::vector<double> took;
  for (int i = 0; i < kProbes; ++i) {
    auto start = Clock::now();
    int status = node.Get(i % 2 ? "/primary" : "/__opr/health").status;
    took.push_back(SecondsSince(start));
    if (status != 200) return std::nan("");
  }
  std::sort(took.begin(), took.end());
  return took[static_cast<size_t>(0.99 * (took.size() - 1))];
}

// Hostile clients: kIdle connections that say nothing and kSlowloris that send a request
// header one byte a second, for as long as the object lives (bounded by `limit`).
class Hostile {
 public:
  Hostile(int port, milliseconds limit) {
    for (int i = 0; i < kIdle; ++i)
      if (int fd = Connect(port); fd >= 0) idle_.push_back(fd);
    for (int i = 0; i < kSlowloris; ++i)
      if (int fd = Connect(port); fd >= 0) slow_.push_back(fd);
    feeder_ = std::thread([this, limit] {
      const auto until = Clock::now() + limit;
      const std::string header = "GET /__opr/status HTTP/1.1\r\nX-Slow: ";
      size_t sent = 0;
      while (!stop_ && Clock::now() < until) {
        char byte = sent < header.size() ? header[sent] : 'a';
        for (int fd : slow_) (void)!::send(fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        ++sent;
        for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(milliseconds(100));
      }
    });
  }
  ~Hostile() {
    stop_ = true;
    feeder_.join();
    for (int fd : idle_) ::close(fd);
    for (int fd : slow_) ::close(fd);
  }
  size_t opened() const { return idle_.size() + slow_.size(); }

 private:
  std::vector<int> idle_, slow_;
  std::atomic<bool> stop_{false};
  std::thread feeder_;
};

void RaiseFileLimit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

// Seconds from SIGTERM to pgrt's exit; with `stop_postgres`, the postmaster is SIGSTOPped
// first. NaN when it did not exit within 30 s.
double SigtermToExit(bool stop_postgres, std::string& error) {
  PgrtNode node;
  node.Start();
  if (!node.WaitHealthy()) {
    error = "node did not become healthy";
    return std::nan("");
  }
  pid_t postmaster = node.PostmasterPid();
  if (stop_postgres) ::kill(postmaster, SIGSTOP);
  auto start = Clock::now();
  auto status = node.Stop(SIGTERM, milliseconds(30000));
  double s = SecondsSince(start);
  if (!status) {
    ::kill(postmaster, SIGCONT);
    error = "pgrt did not exit within 30 s";
    return std::nan("");
  }
  if (!WaitProcessGone(postmaster, milliseconds(5000))) error = "postgres outlived pgrt";
  return s;
}

}  // namespace

int RunLoopBench() {
  RaiseFileLimit();
  const int reps = RepsFromEnv(3, 20);
  std::cout << "pgrt bench loop  " << MachineLine() << "  reps=" << reps << "\n" << std::flush;
  Samples p99, stopped_exit;
  std::vector<double> rss_loaded, rss_quiet, anon_loaded;
  std::vector<std::string> errors;
  size_t opened = 0;
  for (int i = 0; i < reps; ++i) {
    PgrtNode node;
    node.Start();
    if (!node.WaitHealthy()) {
      errors.push_back("node did not become healthy");
      continue;
    }
    testing::WaitUntil([&] { return node.Get("/primary").status == 200; }, milliseconds(10000));
    rss_quiet.push_back(static_cast<double>(VmRssKb(node.pid())));
    double quiet = ProbeP99(node);
    double loaded;
    {
      Hostile hostile(node.api_port(), milliseconds(120000));
      opened = hostile.opened();
      std::this_thread::sleep_for(milliseconds(500));  // let pgrt accept them all
      loaded = ProbeP99(node);
      rss_loaded.push_back(static_cast<double>(VmRssKb(node.pid())));
      anon_loaded.push_back(static_cast<double>(StatusFieldKb(node.pid(), "RssAnon")));
    }
    if (std::isnan(quiet) || std::isnan(loaded)) {
      errors.push_back("a probe got no 200");
      continue;
    }
    p99.baseline.push_back(quiet);
    p99.pgrt.push_back(loaded);
    std::string error;
    double running = SigtermToExit(false, error);
    double stopped = SigtermToExit(true, error);
    if (!error.empty()) errors.push_back(error);
    if (!std::isnan(running) && !std::isnan(stopped)) {
      stopped_exit.baseline.push_back(running);
      stopped_exit.pgrt.push_back(stopped);
    }
    std::cerr << "repetition " << i + 1 << "/" << reps << " done\n";
  }
  const FigureSpec figures[] = {
      {"probe_p99_hostile", &p99, Judge::kAbsolute, 0.050, "s"},
      {"sigterm_stopped_pg", &stopped_exit, Judge::kAbsolute, 2.0, "s"},
  };
  std::cout << "pgrt, baseline: medians of " << reps << " repetitions\n";
  for (const FigureSpec& f : figures) std::cout << FormatFigure(f) << "\n" << FormatRuns(f) << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "    probe p99 (median, ms): quiet %.2f, hostile %.2f\n",
                Median(p99.baseline) * 1000, Median(p99.pgrt) * 1000);
  std::cout << line;
  std::snprintf(line, sizeof line,
                "    hostile clients held open: %zu (%d idle + %d slowloris); pgrt VmRSS quiet "
                "%.1f MB, under that load %.1f MB (RssAnon %.1f MB)\n",
                opened, kIdle, kSlowloris, Median(rss_quiet) / 1024, Median(rss_loaded) / 1024,
                Median(anon_loaded) / 1024);
  std::cout << line
            << "    baselines: probe_p99_hostile = the same node's probes with no hostile "
               "client; sigterm_stopped_pg = SIGTERM of a node whose postgres runs\n";
  for (const auto& e : errors) std::cout << "error: " << e << "\n";
  return p99.pgrt.empty() || stopped_exit.pgrt.empty() ? 1 : 0;
}

}  // namespace pgrt::bench
