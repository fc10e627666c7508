#include "ui_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "ha_clusters.h"
#include "harness/harness.h"
#include "probes.h"
#include "report.h"
#include "state/sample_history.h"

namespace pgrt::bench {
namespace {

using std::chrono::milliseconds;
using testing::HttpGet;
using testing::PgrtNode;

constexpr int kLoads = 50;
// The page asks for its status every 5 s, the samples every 10 s, the statements every
// 30 s; polled 20 times as often, so that pgrt's CPU is measurable in clock ticks.
constexpr int kSpeedUp = 20;
constexpr milliseconds kPollSpan{20000};

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// One page load as the server sees it: the document, then what its first refresh reads.
double PageLoadMs(int port, bool* ok) {
  const auto start = std::chrono::steady_clock::now();
  for (const char* path : {"/ui", "/__opr/timings", "/__opr/status", "/__opr/history/samples",
                           "/__opr/statements", "/cluster"}) {
    const int status = HttpGet(port, path).status;
    *ok = *ok && (status == 200 || (status == 404 && std::string(path) == "/cluster"));
  }
  return Ms(std::chrono::steady_clock::now() - start);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

// pgrt's CPU seconds over kPollSpan, polling like kSpeedUp open pages when `poll`.
double CpuOver(const PgrtNode& node, bool poll) {
  const double before = CpuSeconds(node.pid());
  const auto end = std::chrono::steady_clock::now() + kPollSpan;
  const milliseconds status_every(5000 / kSpeedUp), samples_every(10000 / kSpeedUp),
      statements_every(30000 / kSpeedUp);
  auto next_samples = std::chrono::steady_clock::now(), next_statements = next_samples;
  while (std::chrono::steady_clock::now() < end) {
    const auto now = std::chrono::steady_clock::now();
    if (poll) {
      HttpGet(node.api_port(), "/__opr/status");
      if (now >= next_samples) {
        HttpGet(node.api_port(), "/__opr/history/samples");
        next_samples = now + samples_every;
      }
      if (now >= next_statements) {
        HttpGet(node.api_port(), "/__opr/statements");
        next_statements = now + statements_every;
      }
    }
    std::this_thread::sleep_for(status_every);
  }
  return CpuSeconds(node.pid()) - before;
}

}  // namespace

int RunUiBench() {
  const int reps = RepsFromEnv(1, 10);
  std::cout << "pgrt bench ui  " << MachineLine() << "  reps=" << reps << "\n" << std::flush;
  std::vector<double> page, baseline, cost, rss, anon;
  std::vector<std::string> errors;
  for (int i = 0; i < reps; ++i) {
    PgrtNode node;
    node.Start();
    if (!node.WaitHealthy()) {
      errors.push_back("node did not become healthy");
      continue;
    }
    bool ok = true;
    PageLoadMs(node.api_port(), &ok);  // warm: the first statements read connects
    for (int k = 0; k < kLoads; ++k) {
      page.push_back(PageLoadMs(node.api_port(), &ok));
      const auto start = std::chrono::steady_clock::now();
      if (HttpGet(node.api_port(), "/liveness").status != 200) ok = false;
      baseline.push_back(Ms(std::chrono::steady_clock::now() - start));
    }
    if (!ok) errors.push_back("an answer of the page's was not 200");
    const double idle = CpuOver(node, false);
    const double polled = CpuOver(node, true);
    // ms of CPU per second of one page open.
    cost.push_back((polled - idle) * 1000 /
                   (std::chrono::duration<double>(kPollSpan).count() * kSpeedUp));
    std::this_thread::sleep_for(milliseconds(1000));
    rss.push_back(static_cast<double>(VmRssKb(node.pid())) / 1024);
    anon.push_back(static_cast<double>(StatusFieldKb(node.pid(), "RssAnon")) / 1024);
  }
  char line[512];
  std::snprintf(line, sizeof line,
                "ui_page_load  pgrt p50=%.1fms p95=%.1fms max=%.1fms  baseline(/liveness) "
                "p50=%.2fms  target<=200ms  %s\n",
                Percentile(page, 0.5), Percentile(page, 0.95), Percentile(page, 1.0),
                Percentile(baseline, 0.5), Percentile(page, 0.95) <= 200 ? "OK" : "MISS");
  std::cout << line;
  std::snprintf(line, sizeof line,
                "ui_refresh_cpu  pgrt=%.3f ms CPU per second of an open page (median of %zu)  "
                "target<=1ms  %s\n",
                Median(cost), cost.size(), Median(cost) <= 1.0 ? "OK" : "MISS");
  std::cout << line;
  std::snprintf(
      line, sizeof line,
      "ui_idle_memory  pgrt VmRSS=%.1fMB RssAnon=%.1fMB after the polls; the sample "
      "ring is fixed at %zu x %zu B = %.1f kB\n",
      Median(rss), Median(anon), SampleHistory::kCapacity, sizeof(SampleHistory::Sample),
      static_cast<double>(SampleHistory::kCapacity * sizeof(SampleHistory::Sample)) / 1000);
  std::cout << line;
  for (const std::string& e : errors) std::cout << "ERROR " << e << "\n";
  return page.empty() || cost.empty() ? 1 : 0;
}

}  // namespace pgrt::bench
