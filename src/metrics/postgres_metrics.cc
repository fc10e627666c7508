#include "metrics/postgres_metrics.h"

#include "pg/state_sql.h"

namespace pgrt {
namespace {

// The WAL position that exists on either role.
#define HEAD_LSN \
  "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)"

constexpr const char* kServer =
    "SELECT pg_is_in_recovery()::int, current_setting('max_connections'),"
    " extract(epoch FROM pg_postmaster_start_time()),"
    " pg_wal_lsn_diff(" HEAD_LSN
    ", '0/0')"
    ", " PGRT_SQL_REPLAY_LAG_SECONDS ", " PGRT_SQL_REPLAY_LAG_BYTES
    ","
    " a.archived_count, a.failed_count, extract(epoch FROM now() - a.last_archived_time),"
    // Where pg_stat_statements lives, when it is created here and actually loaded.
    " (SELECT quote_ident(n.nspname) FROM pg_extension e"
    "   JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'"
    "   AND current_setting('shared_preload_libraries') ~ "
    "'(^|[\\s,\"])pg_stat_statements([\\s,\"]|$)')"
    " FROM pg_stat_archiver a";

// Every database × every state, so series do not come and go with the connections.
constexpr const char* kActivity =
    "SELECT d.datname, s.state, count(a.pid) FROM pg_database d"
    " CROSS JOIN (VALUES ('active'), ('idle'), ('idle in transaction'),"
    "  ('idle in transaction (aborted)'), ('fastpath function call'), ('disabled')) s(state)"
    " LEFT JOIN pg_stat_activity a"
    "  ON a.datid = d.oid AND a.state = s.state AND a.backend_type = 'client backend'"
    " GROUP BY 1, 2 ORDER BY 1, 2";

constexpr const char* kDatabases =
    "SELECT d.datname, s.numbackends, s.xact_commit, s.xact_rollback, s.blks_read, s.blks_hit,"
    " s.tup_returned, s.tup_fetched, s.tup_inserted, s.tup_updated, s.tup_deleted, s.deadlocks"
    " FROM pg_database d LEFT JOIN pg_stat_database s ON s.datid = d.oid ORDER BY 1";

constexpr const char* kSizes =
    "SELECT datname, CASE WHEN has_database_privilege(oid, 'CONNECT')"
    " THEN pg_database_size(oid) END FROM pg_database ORDER BY 1";

constexpr const char* kStandbys =
    "SELECT COALESCE(application_name, ''), COALESCE(host(client_addr), ''),"
    " COALESCE(state, ''), pg_wal_lsn_diff(" HEAD_LSN
    ", replay_lsn),"
    " COALESCE(extract(epoch FROM replay_lag), 0)"
    " FROM pg_stat_replication ORDER BY 1, 2";

constexpr const char* kSlots = "SELECT slot_name, active::int, pg_wal_lsn_diff(" HEAD_LSN
                               ", restart_lsn)"
                               " FROM pg_replication_slots ORDER BY 1";

// Column order of kDatabases after datname.
constexpr const char* kDatabaseFamilies[] = {
    "pg_stat_database_numbackends",   "pg_stat_database_xact_commit",
    "pg_stat_database_xact_rollback", "pg_stat_database_blks_read",
    "pg_stat_database_blks_hit",      "pg_stat_database_tup_returned",
    "pg_stat_database_tup_fetched",   "pg_stat_database_tup_inserted",
    "pg_stat_database_tup_updated",   "pg_stat_database_tup_deleted",
    "pg_stat_database_deadlocks"};

std::string Cell(const PgResult& r, int row, int col) {
  return r.IsNull(row, col) ? "" : r.Get(row, col);
}

void AddServer(const PgResult& r, MetricsPage& page) {
  if (r.rows() != 1) return;
  page.AddText("pg_replication_is_replica", {}, Cell(r, 0, 0));
  page.AddText("pg_settings_max_connections", {}, Cell(r, 0, 1));
  page.AddText("pg_postmaster_start_time_seconds", {}, Cell(r, 0, 2));
  page.AddText("pg_wal_lsn_bytes", {}, Cell(r, 0, 3));
  page.AddText("pg_replication_lag", {}, Cell(r, 0, 4));
  page.AddText("pg_replication_lag_bytes", {}, Cell(r, 0, 5));
  page.AddText("pg_stat_archiver_archived_count", {}, Cell(r, 0, 6));
  page.AddText("pg_stat_archiver_failed_count", {}, Cell(r, 0, 7));
  page.AddText("pg_stat_archiver_last_archive_age", {}, Cell(r, 0, 8));
}

void AddRows(const std::vector<PgResult>& rs, MetricsPage& page) {
  const PgResult& act = rs[1];
  for (int i = 0; i < act.rows(); ++i)
    page.AddText("pg_stat_activity_count", {act.Get(i, 0), act.Get(i, 1)}, Cell(act, i, 2));
  const PgResult& dbs = rs[2];
  for (int i = 0; i < dbs.rows(); ++i) {
    int col = 1;
    for (const char* family : kDatabaseFamilies)
      page.AddText(family, {dbs.Get(i, 0)}, Cell(dbs, i, col++));
  }
  const PgResult& sb = rs[3];
  for (int i = 0; i < sb.rows(); ++i) {
    std::vector<std::string> labels = {sb.Get(i, 0), sb.Get(i, 1), sb.Get(i, 2)};
    page.AddText("pg_stat_replication_pg_wal_lsn_diff", labels, Cell(sb, i, 3));
    page.AddText("pg_stat_replication_replay_lag_seconds", labels, Cell(sb, i, 4));
  }
  const PgResult& slots = rs[4];
  for (int i = 0; i < slots.rows(); ++i) {
    page.AddText("pg_replication_slots_active", {slots.Get(i, 0)}, Cell(slots, i, 1));
    page.AddText("pg_replication_slots_pg_wal_lsn_diff", {slots.Get(i, 0)}, Cell(slots, i, 2));
  }
}

}  // namespace

std::string StatementsSql(const std::string& schema) {
  // `schema` comes quoted by the server (quote_ident in kServer).
  return "SELECT d.datname, sum(s.calls), sum(s.total_exec_time) / 1000, sum(s.rows) FROM " +
         schema +
         ".pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
         " WHERE s.toplevel GROUP BY 1 ORDER BY 1";
}

void AddStatementsMetrics(const PgResult& s, MetricsPage& page) {
  for (int i = 0; i < s.rows(); ++i) {
    page.AddText("pg_stat_statements_calls_total", {s.Get(i, 0)}, Cell(s, i, 1));
    page.AddText("pg_stat_statements_seconds_total", {s.Get(i, 0)}, Cell(s, i, 2));
    page.AddText("pg_stat_statements_rows_total", {s.Get(i, 0)}, Cell(s, i, 3));
  }
}

std::string PostgresMetricsSql(bool sizes_due) {
  std::string batch = std::string(kServer) + ";\n" + kActivity + ";\n" + kDatabases + ";\n" +
                      kStandbys + ";\n" + kSlots;
  return sizes_due ? batch + ";\n" + kSizes : batch;
}

Result<std::optional<std::string>> AddPostgresMetrics(const std::vector<PgResult>& rs,
                                                      bool sizes_due, SteadyTime now,
                                                      DatabaseSizeCache& sizes, MetricsPage& page) {
  if (rs.size() != (sizes_due ? 6u : 5u)) return Status::Error("metrics: results missing");
  if (sizes_due) {
    const PgResult& r = rs[5];
    sizes.sizes.clear();
    for (int i = 0; i < r.rows(); ++i) sizes.sizes.emplace_back(r.Get(i, 0), Cell(r, i, 1));
    sizes.fetched = now;
  }
  AddServer(rs[0], page);
  AddRows(rs, page);
  for (const auto& [db, bytes] : sizes.sizes) page.AddText("pg_database_size_bytes", {db}, bytes);
  const PgResult& server = rs[0];
  if (server.rows() == 1 && !server.IsNull(0, 9))
    return std::optional<std::string>(server.Get(0, 9));
  return std::optional<std::string>();
}

}  // namespace pgrt
