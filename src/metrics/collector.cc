#include "metrics/collector.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "metrics/disk_metrics.h"
#include "metrics/exposition.h"
#include "metrics/pgbouncer_metrics.h"

namespace pgrt {
namespace {

constexpr Millis kQueryTimeout{3000};

ConnParams PostgresParams(ConnParams p) {
  p["connect_timeout"] = "2";
  p["application_name"] = "pgrt-metrics";
  // The server gives up too, so a slow statement does not outlive the scrape.
  p["options"] = "-c statement_timeout=" + std::to_string(kQueryTimeout.count());
  return p;
}

// A kept connection that died (postgres or PgBouncer restarted since the last scrape)
// fails once with kUnavailable; a new one is then worth one more try. A deadline is not:
// the server is stuck, and asking again would only double the wait.
bool WorthRetrying(const Status& st) { return st.IsUnavailable(); }

}  // namespace

struct MetricsCollector::Round {
  SteadyTime started;
  MetricsPage page;
  bool pg_up = false;
  bool pgbouncer_up = false;
};

MetricsCollector::MetricsCollector(MetricsSources sources, const NodeState& state, EventLoop& loop)
    : state_(state),
      loop_(loop),
      postgres_(loop, PostgresParams(sources.postgres)),
      pgbouncer_errors_(sources.pgbouncer_errors),
      statements_(std::move(sources.postgres), loop) {
  if (sources.pgbouncer) pgbouncer_.emplace(loop, *sources.pgbouncer);
}

void MetricsCollector::Scrape(const BackupFacts& backups, std::function<void(std::string)> done) {
  waiting_.push_back(std::move(done));
  if (waiting_.size() > 1) return;  // one is out: this request shares its page
  facts_ = backups;
  auto s = std::make_shared<Round>();
  s->started = loop_.clock().Now();
  // Starting, restarting or stopping, or the monitor's fresh connection failed (a client
  // cannot connect, whatever this kept connection's backend still answers): down.
  if (!state_.ready() || !state_.observation().error.empty()) {
    postgres_.Reset();
    return ScrapePgbouncer(s, true);
  }
  ScrapePostgres(s, true);
}

void MetricsCollector::ScrapePostgres(std::shared_ptr<Round> s, bool retry) {
  const SteadyTime now = loop_.clock().Now();
  const bool sizes_due = sizes_.Due(now);
  postgres_.QueryPrepared(
      PostgresMetricsStatements(sizes_due), kQueryTimeout,
      [this, s, retry, sizes_due, now](Result<AsyncPgConn::Results> r) {
        if (!r.ok()) {
          spdlog::debug("metrics: {}", r.status().message());
          if (retry && WorthRetrying(r.status())) return ScrapePostgres(s, false);
          return ScrapePgbouncer(s, true);
        }
        MetricsPage attempt;  // all or nothing: a bad answer leaves no half page
        auto schema = AddPostgresMetrics(*r, sizes_due, now, sizes_, attempt);
        if (!schema.ok()) return ScrapePgbouncer(s, true);
        s->page.Merge(attempt);
        s->pg_up = true;
        if (*schema) return ScrapeStatements(s, **schema);
        ScrapePgbouncer(s, true);
      });
}

void MetricsCollector::ScrapeStatements(std::shared_ptr<Round> s, const std::string& schema) {
  postgres_.QueryPrepared(
      {StatementsSql(schema)}, kQueryTimeout, [this, s](Result<AsyncPgConn::Results> r) {
        if (r.ok() && r->size() == 1)
          AddStatementsMetrics((*r)[0], s->page);
        else  // an old extension version (no `toplevel`): its families are left out
          spdlog::debug("metrics: pg_stat_statements: {}", r.status().message());
        ScrapePgbouncer(s, true);
      });
}

void MetricsCollector::ScrapePgbouncer(std::shared_ptr<Round> s, bool retry) {
  if (!pgbouncer_) return Finish(s);
  pgbouncer_->Query(kPgbouncerMetricsSql, kQueryTimeout,
                    [this, s, retry](Result<AsyncPgConn::Results> r) {
                      if (!r.ok() && retry && WorthRetrying(r.status()))
                        return ScrapePgbouncer(s, false);
                      MetricsPage pools;
                      if (r.ok() && AddPgbouncerMetrics(*r, pools).ok()) {
                        s->page.Merge(pools);
                        s->pgbouncer_up = true;
                      }
                      Finish(s);
                    });
}

namespace {

void AddSleepMetrics(const SleepState& s, SystemTime now, MetricsPage& page) {
  page.Add("pgrt_sleep_asleep", {}, s.asleep ? 1 : 0);
  page.Add("pgrt_sleep_client_sessions", {}, static_cast<double>(s.sessions));
  page.Add("pgrt_sleep_held_clients", {}, static_cast<double>(s.held));
  page.Add("pgrt_sleeps_total", {}, static_cast<double>(s.sleeps));
  page.Add("pgrt_wakes_total", {}, static_cast<double>(s.wakes));
  uint64_t waited = 0;
  for (uint64_t c : s.wake_buckets) waited += c;
  // Wakes slower than the last bound are in the sum only through _count's +Inf bucket.
  page.AddHistogram("pgrt_wake_duration_seconds",
                    std::vector<double>(s.kBuckets.begin(), s.kBuckets.end()),
                    std::vector<uint64_t>(s.wake_buckets.begin(), s.wake_buckets.end()), waited,
                    s.wake_seconds_sum);
  double asleep = s.asleep_seconds_total;
  if (s.asleep_since) asleep += std::chrono::duration<double>(now - *s.asleep_since).count();
  page.Add("pgrt_asleep_seconds_total", {}, asleep < 0 ? 0 : asleep);
  page.Add("pgrt_sleep_refused_clients_total", {}, static_cast<double>(s.refused));
}

}  // namespace

void MetricsCollector::Finish(std::shared_ptr<Round> s) {
  MetricsPage& page = s->page;
  page.Add("pg_up", {}, s->pg_up ? 1 : 0);
  // postgres_exporter's own health, which its alerts watch: an error is postgres unread.
  page.Add("pg_exporter_last_scrape_error", {}, s->pg_up ? 0 : 1);
  page.Add("pg_exporter_last_scrape_duration_seconds", {},
           std::chrono::duration<double>(loop_.clock().Now() - s->started).count());
  page.Add("pg_exporter_scrapes_total", {}, static_cast<double>(++scrapes_));
  if (pgbouncer_) page.Add("pgbouncer_up", {}, s->pgbouncer_up ? 1 : 0);
  // From the log pgrt reads itself: there whether or not the console answered.
  if (pgbouncer_errors_) AddPgbouncerErrorMetrics(*pgbouncer_errors_, page);
  page.Add("pgrt_up", {}, 1);
  page.Add("pgrt_build_info", {PGRT_VERSION}, 1);
  page.Add("pgrt_postgres_restarts_total", {}, state_.restarts());
  // The node's controller: where it is, what it is meant to be, and how it got there.
  page.Add("pgrt_node_phase", {ToString(state_.phase())}, 1);
  page.Add("pgrt_node_role", {ToString(state_.topology().role)}, 1);
  for (const auto& [move, count] : state_.move_counts())
    page.Add("pgrt_node_transitions_total", {move.first, move.second}, static_cast<double>(count));
  AddDiskMetrics(state_.volumes(), page);
  if (auto sleep = state_.sleep()) AddSleepMetrics(*sleep, loop_.clock().WallNow(), page);
  for (const auto& [which, tls] : state_.tls()) {
    page.Add("pgrt_tls_cert_expiry_timestamp_seconds", {which}, static_cast<double>(tls.not_after));
    page.Add("pgrt_tls_cert_rotations_total", {which}, static_cast<double>(tls.rotations));
    page.Add("pgrt_tls_cert_rotation_failures_total", {which}, static_cast<double>(tls.failures));
  }
  // The worst lateness of a loop timer since the previous scrape: how long something held
  // the loop that must never wait.
  page.Add("pgrt_loop_lag_seconds", {},
           std::chrono::duration<double>(loop_.TakeWorstLag()).count());
  if (facts_.last_success && (!last_backup_ || *facts_.last_success > *last_backup_))
    last_backup_ = facts_.last_success;
  if (last_backup_) {
    double age = std::chrono::duration<double>(loop_.clock().WallNow() - *last_backup_).count();
    page.Add("pgrt_last_backup_age_seconds", {}, age < 0 ? 0 : age);
  }
  if (last_backup_ || facts_.last_failed)
    page.Add("pgrt_last_backup_failed", {}, facts_.last_failed ? 1 : 0);
  std::string text = page.Render();
  std::vector<std::function<void(std::string)>> waiting;
  waiting.swap(waiting_);
  for (auto& done : waiting) done(text);
}

}  // namespace pgrt
