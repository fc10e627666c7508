#include "metrics/collector.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "metrics/disk_metrics.h"
#include "metrics/exposition.h"
#include "metrics/pgbouncer_metrics.h"
#include "metrics/postgres_metrics.h"

namespace pgrt {
namespace {

constexpr Millis kQueryTimeout{3000};

// Runs `collect` on the cached connection, reconnecting once when the cached one has died
// (postgres or PgBouncer restarted since the last scrape).
template <typename F>
bool WithConnection(std::optional<PgConn>& conn, const ConnParams& params, F&& collect) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = false;
    if (!conn || !conn->ok()) {
      conn.reset();
      auto c = PgConn::Connect(params);
      if (!c.ok()) return false;
      conn.emplace(std::move(*c));
      fresh = true;
    }
    Status st = collect(*conn);
    if (st.ok()) return true;
    spdlog::debug("metrics: {}", st.message());
    conn.reset();  // a timeout leaves it mid-query; an error may mean it died
    if (fresh) return false;
  }
  return false;
}

}  // namespace

MetricsCollector::MetricsCollector(MetricsSources sources, const NodeState& state,
                                   const Clock& clock)
    : sources_(std::move(sources)), state_(state), clock_(clock) {
  ConnParams& p = sources_.postgres;
  p["connect_timeout"] = "2";
  p["application_name"] = "pgrt-metrics";
  // The server gives up too, so a slow statement does not outlive the scrape.
  p["options"] = "-c statement_timeout=" + std::to_string(kQueryTimeout.count());
}

bool MetricsCollector::ScrapePostgres(MetricsPage& page) {
  if (!state_.ready()) {
    postgres_.reset();  // starting, restarting or stopping: nothing to ask
    return false;
  }
  return WithConnection(postgres_, sources_.postgres, [&](PgConn& c) {
    MetricsPage attempt;  // all or nothing: a failed try leaves no half page behind
    Status st = CollectPostgresMetrics(c, kQueryTimeout, clock_.Now(), sizes_, attempt);
    if (st.ok()) page.Merge(attempt);
    return st;
  });
}

bool MetricsCollector::ScrapePgbouncer(MetricsPage& page) {
  MetricsPage pools;
  bool up = WithConnection(pgbouncer_, *sources_.pgbouncer, [&](PgConn& c) {
    pools = MetricsPage();
    return CollectPgbouncerMetrics(c, kQueryTimeout, pools);
  });
  if (up) page.Merge(pools);
  return up;
}

std::string MetricsCollector::Scrape(const BackupFacts& backups) {
  std::lock_guard<std::mutex> lock(mu_);
  MetricsPage page;
  bool pg_up = ScrapePostgres(page);
  page.Add("pg_up", {}, pg_up ? 1 : 0);
  if (sources_.pgbouncer) page.Add("pgbouncer_up", {}, ScrapePgbouncer(page) ? 1 : 0);

  page.Add("pgrt_up", {}, 1);
  page.Add("pgrt_build_info", {PGRT_VERSION}, 1);
  page.Add("pgrt_postgres_restarts_total", {}, state_.restarts());
  AddDiskMetrics(state_.volumes(), page);
  if (backups.last_success && (!last_backup_ || *backups.last_success > *last_backup_))
    last_backup_ = backups.last_success;
  if (last_backup_) {
    double age = std::chrono::duration<double>(clock_.WallNow() - *last_backup_).count();
    page.Add("pgrt_last_backup_age_seconds", {}, age < 0 ? 0 : age);
  }
  if (last_backup_ || backups.last_failed)
    page.Add("pgrt_last_backup_failed", {}, backups.last_failed ? 1 : 0);
  return page.Render();
}

}  // namespace pgrt
