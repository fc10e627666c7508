#include "metrics/pgbouncer_metrics.h"

#include <cstdlib>

namespace pgrt {
namespace {

int Column(const PgResult& r, const char* name) {
  for (int c = 0; c < r.cols(); ++c)
    if (r.ColumnName(c) == name) return c;
  return -1;
}

}  // namespace

Status AddPgbouncerMetrics(const std::vector<PgResult>& rs, MetricsPage& page) {
  if (rs.size() != 1) return Status::Error("SHOW POOLS: no result");
  const PgResult& r = rs[0];
  // By name: the columns differ between PgBouncer versions.
  const int db = Column(r, "database"), user = Column(r, "user");
  const int maxwait = Column(r, "maxwait"), maxwait_us = Column(r, "maxwait_us");
  if (db < 0 || user < 0) return Status::Error("SHOW POOLS: unexpected columns");
  const std::pair<const char*, const char*> kCounts[] = {
      {"cl_active", "pgbouncer_pools_client_active_connections"},
      {"cl_waiting", "pgbouncer_pools_client_waiting_connections"},
      {"sv_active", "pgbouncer_pools_server_active_connections"},
      {"sv_idle", "pgbouncer_pools_server_idle_connections"},
      {"sv_used", "pgbouncer_pools_server_used_connections"},
  };
  for (int i = 0; i < r.rows(); ++i) {
    if (r.Get(i, db) == "pgbouncer") continue;  // the console itself: our own scrape
    std::vector<std::string> labels = {r.Get(i, db), r.Get(i, user)};
    for (const auto& [column, family] : kCounts) {
      int c = Column(r, column);
      if (c >= 0) page.AddText(family, labels, r.Get(i, c));
    }
    if (maxwait >= 0) {
      double seconds = std::strtod(r.Get(i, maxwait).c_str(), nullptr);
      if (maxwait_us >= 0) seconds += std::strtod(r.Get(i, maxwait_us).c_str(), nullptr) / 1e6;
      page.Add("pgbouncer_pools_client_maxwait_seconds", labels, seconds);
    }
  }
  return Status::Ok();
}

void AddPgbouncerErrorMetrics(const std::map<std::string, uint64_t>& counts, MetricsPage& page) {
  for (const auto& [message, count] : counts)
    page.Add("pgbouncer_errors_count", {message}, static_cast<double>(count));
}

}  // namespace pgrt
