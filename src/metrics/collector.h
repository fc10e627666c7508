// MetricsCollector: one /metrics scrape, on the event loop. It has its own connections (to
// postgres and to PgBouncer's console), asynchronous and with deadlines, so a scrape never
// waits on, or holds up, anything else; scrapes that arrive while one is out share its
// page. What cannot be read is reported as down (pg_up 0, pgbouncer_up 0) in a page that
// is still whole.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "metrics/postgres_metrics.h"
#include "metrics/statements_report.h"
#include "pg/async_conn.h"
#include "process/event_loop.h"
#include "state/node_state.h"

namespace pgrt {

struct MetricsSources {
  ConnParams postgres;                  // pgrt's own parameters for POSTGRES_DB
  std::optional<ConnParams> pgbouncer;  // the admin console; nullopt: no pooler
  // What the pooler counted in PgBouncer's log (outlives the collector); null: no pooler.
  const std::map<std::string, uint64_t>* pgbouncer_errors = nullptr;
};

// What the backup subsystem knows, read by the caller at scrape time.
struct BackupFacts {
  std::optional<SystemTime> last_success;  // when the newest successful backup finished
  bool last_failed = false;                // the most recent run failed
};

class MetricsCollector {
 public:
  MetricsCollector(MetricsSources sources, const NodeState& state, EventLoop& loop);
  MetricsCollector(const MetricsCollector&) = delete;
  MetricsCollector& operator=(const MetricsCollector&) = delete;

  // The page, in Prometheus's text format, handed to `done` on the loop. Never fails.
  void Scrape(const BackupFacts& backups, std::function<void(std::string)> done);
  // The top statements (GET /__opr/statements), over a connection of its own.
  StatementsReport& statements() { return statements_; }

 private:
  struct Round;
  void ScrapePostgres(std::shared_ptr<Round> s, bool retry);
  void ScrapeStatements(std::shared_ptr<Round> s, const std::string& schema);
  void ScrapePgbouncer(std::shared_ptr<Round> s, bool retry);
  void Finish(std::shared_ptr<Round> s);

  const NodeState& state_;
  EventLoop& loop_;
  AsyncPgConn postgres_;
  std::optional<AsyncPgConn> pgbouncer_;
  const std::map<std::string, uint64_t>* pgbouncer_errors_;
  std::vector<std::function<void(std::string)>> waiting_;  // scrapes sharing the one out
  std::optional<SystemTime> last_backup_;                  // survives a later failed run
  BackupFacts facts_;
  DatabaseSizeCache sizes_;
  uint64_t scrapes_ = 0;  // scrapes answered since pgrt started
  StatementsReport statements_;
};

}  // namespace pgrt
