// What /metrics reads from postgres: one round trip of seven statements (server with its
// settings and bgwriter, activity, databases, standbys, slots, locks, the database's
// tables; an eighth for database sizes when they are due), plus one for pg_stat_statements when it
// is loaded. Works on a primary and on a replica alike (WAL positions are chosen by
// pg_is_in_recovery()).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "metrics/exposition.h"
#include "pg/connection.h"
#include "util/clock.h"

namespace pgrt {

// Database sizes walk every file of every database, the costliest part of a scrape, and
// change slowly: they are read at most once per kTtl (postgres_exporter users set
// cache_seconds on the same query for the same reason).
struct DatabaseSizeCache {
  static constexpr Millis kTtl{30000};
  std::optional<SteadyTime> fetched;
  std::vector<std::pair<std::string, std::string>> sizes;  // datname, bytes

  bool Due(SteadyTime now) const { return !fetched || now - *fetched >= kTtl; }
};

// The statements of one scrape (one more for database sizes when they are due), each
// prepared once per connection (AsyncPgConn::QueryPrepared).
std::vector<std::string> PostgresMetricsStatements(bool sizes_due);
// Adds the postgres families of the answer to `page`; pg_up is the caller's to set.
// Returns the schema of pg_stat_statements when it is created and loaded, for a second
// round trip (StatementsSql); its failure only leaves its families out.
Result<std::optional<std::string>> AddPostgresMetrics(const std::vector<PgResult>& results,
                                                      bool sizes_due, SteadyTime now,
                                                      DatabaseSizeCache& sizes, MetricsPage& page);
std::string StatementsSql(const std::string& schema);
void AddStatementsMetrics(const PgResult& result, MetricsPage& page);

}  // namespace pgrt
