// MetricsCollector: one /metrics scrape. It has its own connections (to postgres and to
// PgBouncer's console), so a scrape never waits on, or holds up, the API's other queries;
// scrapes themselves run one at a time. Every wait is bounded (connect_timeout, a query
// deadline and statement_timeout). What cannot be read is reported as down (pg_up 0,
// pgbouncer_up 0) in a page that is still whole.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "metrics/postgres_metrics.h"
#include "node/state.h"
#include "pg/connection.h"
#include "util/clock.h"

namespace pgrt {

struct MetricsSources {
  ConnParams postgres;                  // pgrt's own parameters for POSTGRES_DB
  std::optional<ConnParams> pgbouncer;  // the admin console; nullopt: no pooler
};

// What the backup subsystem knows, read by the caller at scrape time.
struct BackupFacts {
  std::optional<SystemTime> last_success;  // when the newest successful backup finished
  bool last_failed = false;                // the most recent run failed
};

class MetricsCollector {
 public:
  MetricsCollector(MetricsSources sources, const NodeState& state, const Clock& clock);
  MetricsCollector(const MetricsCollector&) = delete;
  MetricsCollector& operator=(const MetricsCollector&) = delete;

  // The page, in Prometheus's text format. Never fails.
  std::string Scrape(const BackupFacts& backups);

 private:
  bool ScrapePostgres(MetricsPage& page);
  bool ScrapePgbouncer(MetricsPage& page);

  MetricsSources sources_;
  const NodeState& state_;
  const Clock& clock_;
  std::mutex mu_;  // one scrape at a time; guards everything below
  std::optional<PgConn> postgres_;
  std::optional<PgConn> pgbouncer_;
  std::optional<SystemTime> last_backup_;  // survives a later failed run
  DatabaseSizeCache sizes_;
};

}  // namespace pgrt
