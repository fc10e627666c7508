#include "metrics/postgres_metrics.h"

#include "pg/state_sql.h"

namespace pgrt {
namespace {

// The WAL position that exists on either role.
#define HEAD_LSN \
  "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)"

// The settings of kSettingFamilies, in that order.
#define SETTINGS_COLUMNS                                                                       \
  " current_setting('max_connections'), current_setting('superuser_reserved_connections'),"    \
  " current_setting('max_locks_per_transaction'), current_setting('max_wal_senders'),"         \
  " current_setting('max_replication_slots'), current_setting('autovacuum_vacuum_threshold')," \
  " current_setting('autovacuum_vacuum_scale_factor'),"                                        \
  " current_setting('autovacuum_analyze_threshold'),"                                          \
  " current_setting('autovacuum_analyze_scale_factor')"

// pg_stat_bgwriter of PostgreSQL 15 and 16, in kBgwriterFamilies' order.
#define BGWRITER_COLUMNS                                                                      \
  " b.checkpoints_timed, b.checkpoints_req, b.checkpoint_write_time, b.checkpoint_sync_time," \
  " b.buffers_checkpoint, b.buffers_clean, b.maxwritten_clean, b.buffers_backend,"            \
  " b.buffers_backend_fsync, b.buffers_alloc"

// One row: the server, its WAL and archiver (columns 0-10; 1 is unused), the settings (from
// kSettingsColumn) and pg_stat_bgwriter (from kBgwriterColumn); single rows share a
// statement, as each statement is one more command in the scrape's pipeline.
constexpr int kSettingsColumn = 11;
constexpr int kBgwriterColumn = 20;
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
    "'(^|[\\s,\"])pg_stat_statements([\\s,\"]|$)'),"
    // The age of the last replayed transaction, caught up or not (0 on a primary).
    " CASE WHEN pg_is_in_recovery() THEN GREATEST(COALESCE(extract(epoch FROM"
    "  clock_timestamp() - pg_last_xact_replay_timestamp()), 0), 0) ELSE 0 END," SETTINGS_COLUMNS
    "," BGWRITER_COLUMNS " FROM pg_stat_archiver a, pg_stat_bgwriter b";

// Every database × every state, so series do not come and go with the connections; with the
// age of the oldest open transaction (postgres_exporter's max_tx_duration).
constexpr const char* kActivity =
    "SELECT d.datname, s.state, count(a.pid),"
    " COALESCE(max(extract(epoch FROM now() - a.xact_start)), 0) FROM pg_database d"
    " CROSS JOIN (VALUES ('active'), ('idle'), ('idle in transaction'),"
    "  ('idle in transaction (aborted)'), ('fastpath function call'), ('disabled')) s(state)"
    " LEFT JOIN pg_stat_activity a"
    "  ON a.datid = d.oid AND a.state = s.state AND a.backend_type = 'client backend'"
    " GROUP BY 1, 2 ORDER BY 1, 2";

constexpr const char* kDatabases =
    "SELECT d.datname, s.numbackends, s.xact_commit, s.xact_rollback, s.blks_read, s.blks_hit,"
    " s.tup_returned, s.tup_fetched, s.tup_inserted, s.tup_updated, s.tup_deleted, s.deadlocks,"
    " s.conflicts, s.temp_files, s.temp_bytes, c.confl_tablespace, c.confl_lock,"
    " c.confl_snapshot, c.confl_bufferpin, c.confl_deadlock"
    " FROM pg_database d LEFT JOIN pg_stat_database s ON s.datid = d.oid"
    " LEFT JOIN pg_stat_database_conflicts c ON c.datid = d.oid ORDER BY 1";

// Every database × every lock mode, as postgres_exporter shows them (lower case).
constexpr const char* kLocks =
    "SELECT d.datname, m.mode, count(l.mode) FROM pg_database d"
    " CROSS JOIN (VALUES ('accesssharelock'), ('rowsharelock'), ('rowexclusivelock'),"
    "  ('shareupdateexclusivelock'), ('sharelock'), ('sharerowexclusivelock'),"
    "  ('exclusivelock'), ('accessexclusivelock'), ('sireadlock')) m(mode)"
    " LEFT JOIN pg_locks l ON l.database = d.oid AND lower(l.mode) = m.mode"
    " GROUP BY 1, 2 ORDER BY 1, 2";

// The tables of the scraped database, in kUserTableFamilies' order; a time never reached is
// 0, as postgres_exporter shows it.
constexpr const char* kUserTables =
    "SELECT current_database(), schemaname, relname, seq_scan, seq_tup_read, idx_scan,"
    " idx_tup_fetch, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd, n_live_tup, n_dead_tup,"
    " n_mod_since_analyze, COALESCE(extract(epoch FROM last_vacuum), 0),"
    " COALESCE(extract(epoch FROM last_autovacuum), 0),"
    " COALESCE(extract(epoch FROM last_analyze), 0),"
    " COALESCE(extract(epoch FROM last_autoanalyze), 0),"
    " vacuum_count, autovacuum_count, analyze_count, autoanalyze_count"
    " FROM pg_stat_user_tables ORDER BY 2, 3";

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
constexpr const char* kDatabaseFamilies[] = {"pg_stat_database_numbackends",
                                             "pg_stat_database_xact_commit",
                                             "pg_stat_database_xact_rollback",
                                             "pg_stat_database_blks_read",
                                             "pg_stat_database_blks_hit",
                                             "pg_stat_database_tup_returned",
                                             "pg_stat_database_tup_fetched",
                                             "pg_stat_database_tup_inserted",
                                             "pg_stat_database_tup_updated",
                                             "pg_stat_database_tup_deleted",
                                             "pg_stat_database_deadlocks",
                                             "pg_stat_database_conflicts",
                                             "pg_stat_database_temp_files",
                                             "pg_stat_database_temp_bytes",
                                             "pg_stat_database_conflicts_confl_tablespace",
                                             "pg_stat_database_conflicts_confl_lock",
                                             "pg_stat_database_conflicts_confl_snapshot",
                                             "pg_stat_database_conflicts_confl_bufferpin",
                                             "pg_stat_database_conflicts_confl_deadlock"};

constexpr const char* kSettingFamilies[] = {"pg_settings_max_connections",
                                            "pg_settings_superuser_reserved_connections",
                                            "pg_settings_max_locks_per_transaction",
                                            "pg_settings_max_wal_senders",
                                            "pg_settings_max_replication_slots",
                                            "pg_settings_autovacuum_vacuum_threshold",
                                            "pg_settings_autovacuum_vacuum_scale_factor",
                                            "pg_settings_autovacuum_analyze_threshold",
                                            "pg_settings_autovacuum_analyze_scale_factor"};

constexpr const char* kBgwriterFamilies[] = {
    "pg_stat_bgwriter_checkpoints_timed_total",     "pg_stat_bgwriter_checkpoints_req_total",
    "pg_stat_bgwriter_checkpoint_write_time_total", "pg_stat_bgwriter_checkpoint_sync_time_total",
    "pg_stat_bgwriter_buffers_checkpoint_total",    "pg_stat_bgwriter_buffers_clean_total",
    "pg_stat_bgwriter_maxwritten_clean_total",      "pg_stat_bgwriter_buffers_backend_total",
    "pg_stat_bgwriter_buffers_backend_fsync_total", "pg_stat_bgwriter_buffers_alloc_total"};

// Column order of kUserTables after datname, schemaname and relname.
constexpr const char* kUserTableFamilies[] = {"pg_stat_user_tables_seq_scan",
                                              "pg_stat_user_tables_seq_tup_read",
                                              "pg_stat_user_tables_idx_scan",
                                              "pg_stat_user_tables_idx_tup_fetch",
                                              "pg_stat_user_tables_n_tup_ins",
                                              "pg_stat_user_tables_n_tup_upd",
                                              "pg_stat_user_tables_n_tup_del",
                                              "pg_stat_user_tables_n_tup_hot_upd",
                                              "pg_stat_user_tables_n_live_tup",
                                              "pg_stat_user_tables_n_dead_tup",
                                              "pg_stat_user_tables_n_mod_since_analyze",
                                              "pg_stat_user_tables_last_vacuum",
                                              "pg_stat_user_tables_last_autovacuum",
                                              "pg_stat_user_tables_last_analyze",
                                              "pg_stat_user_tables_last_autoanalyze",
                                              "pg_stat_user_tables_vacuum_count",
                                              "pg_stat_user_tables_autovacuum_count",
                                              "pg_stat_user_tables_analyze_count",
                                              "pg_stat_user_tables_autoanalyze_count"};

// The statements of one scrape, by position in the answer (kSizes last, when due).
enum Statement {
  kServerAt,
  kActivityAt,
  kDatabasesAt,
  kStandbysAt,
  kSlotsAt,
  kLocksAt,
  kUserTablesAt,
  kStatementCount
};

std::string Cell(const PgResult& r, int row, int col) {
  return r.IsNull(row, col) ? "" : r.Get(row, col);
}

void AddServer(const PgResult& r, MetricsPage& page) {
  if (r.rows() != 1) return;
  page.AddText("pg_replication_is_replica", {}, Cell(r, 0, 0));
  page.AddText("pg_postmaster_start_time_seconds", {}, Cell(r, 0, 2));
  page.AddText("pg_wal_lsn_bytes", {}, Cell(r, 0, 3));
  page.AddText("pg_replication_lag", {}, Cell(r, 0, 4));
  page.AddText("pg_replication_lag_seconds", {}, Cell(r, 0, 4));
  page.AddText("pg_replication_last_replay_seconds", {}, Cell(r, 0, 10));
  page.AddText("pg_replication_lag_bytes", {}, Cell(r, 0, 5));
  page.AddText("pg_stat_archiver_archived_count", {}, Cell(r, 0, 6));
  page.AddText("pg_stat_archiver_failed_count", {}, Cell(r, 0, 7));
  page.AddText("pg_stat_archiver_last_archive_age", {}, Cell(r, 0, 8));
  int col = kSettingsColumn;
  for (const char* family : kSettingFamilies) page.AddText(family, {}, Cell(r, 0, col++));
  col = kBgwriterColumn;
  for (const char* family : kBgwriterFamilies) page.AddText(family, {}, Cell(r, 0, col++));
}

void AddRows(const std::vector<PgResult>& rs, MetricsPage& page) {
  const PgResult& act = rs[kActivityAt];
  for (int i = 0; i < act.rows(); ++i) {
    page.AddText("pg_stat_activity_count", {act.Get(i, 0), act.Get(i, 1)}, Cell(act, i, 2));
    page.AddText("pg_stat_activity_max_tx_duration", {act.Get(i, 0), act.Get(i, 1)},
                 Cell(act, i, 3));
  }
  const PgResult& dbs = rs[kDatabasesAt];
  for (int i = 0; i < dbs.rows(); ++i) {
    int col = 1;
    for (const char* family : kDatabaseFamilies)
      page.AddText(family, {dbs.Get(i, 0)}, Cell(dbs, i, col++));
  }
  const PgResult& sb = rs[kStandbysAt];
  for (int i = 0; i < sb.rows(); ++i) {
    std::vector<std::string> labels = {sb.Get(i, 0), sb.Get(i, 1), sb.Get(i, 2)};
    page.AddText("pg_stat_replication_pg_wal_lsn_diff", labels, Cell(sb, i, 3));
    page.AddText("pg_stat_replication_replay_lag_seconds", labels, Cell(sb, i, 4));
  }
  const PgResult& slots = rs[kSlotsAt];
  for (int i = 0; i < slots.rows(); ++i) {
    page.AddText("pg_replication_slots_active", {slots.Get(i, 0)}, Cell(slots, i, 1));
    page.AddText("pg_replication_slots_pg_wal_lsn_diff", {slots.Get(i, 0)}, Cell(slots, i, 2));
  }
  const PgResult& locks = rs[kLocksAt];
  for (int i = 0; i < locks.rows(); ++i)
    page.AddText("pg_locks_count", {locks.Get(i, 0), locks.Get(i, 1)}, Cell(locks, i, 2));
  const PgResult& tables = rs[kUserTablesAt];
  for (int i = 0; i < tables.rows(); ++i) {
    std::vector<std::string> labels = {tables.Get(i, 0), tables.Get(i, 1), tables.Get(i, 2)};
    int col = 3;
    for (const char* family : kUserTableFamilies)
      page.AddText(family, labels, Cell(tables, i, col++));
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

std::vector<std::string> PostgresMetricsStatements(bool sizes_due) {
  std::vector<std::string> batch = {kServer, kActivity, kDatabases, kStandbys,
                                    kSlots,  kLocks,    kUserTables};
  if (sizes_due) batch.emplace_back(kSizes);
  return batch;
}

Result<std::optional<std::string>> AddPostgresMetrics(const std::vector<PgResult>& rs,
                                                      bool sizes_due, SteadyTime now,
                                                      DatabaseSizeCache& sizes, MetricsPage& page) {
  const size_t expected = kStatementCount + (sizes_due ? 1 : 0);
  if (rs.size() != expected) return Status::Error("metrics: results missing");
  if (sizes_due) {
    const PgResult& r = rs[kStatementCount];
    sizes.sizes.clear();
    for (int i = 0; i < r.rows(); ++i) sizes.sizes.emplace_back(r.Get(i, 0), Cell(r, i, 1));
    sizes.fetched = now;
  }
  AddServer(rs[kServerAt], page);
  AddRows(rs, page);
  for (const auto& [db, bytes] : sizes.sizes) page.AddText("pg_database_size_bytes", {db}, bytes);
  const PgResult& server = rs[kServerAt];
  if (server.rows() == 1 && !server.IsNull(0, 9))
    return std::optional<std::string>(server.Get(0, 9));
  return std::optional<std::string>();
}

}  // namespace pgrt
