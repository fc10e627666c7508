#include "metrics/families.h"

namespace pgrt {
namespace {

using T = MetricType;

// The columns of pg_stat_database that /metrics shows, with the exporter's help text.
#define PG_STAT_DATABASE(column, help) \
  { "pg_stat_database_" column, T::kUntyped, {"datname"}, "Counter: " help }
// The settings /metrics shows, named as postgres_exporter names them (none has a unit).
#define PG_SETTING(name, help) \
  { "pg_settings_" name, T::kGauge, {}, name ": " help }
// A column of pg_stat_bgwriter, a counter with the exporter's "_total" name.
#define PG_STAT_BGWRITER(column, help) \
  { "pg_stat_bgwriter_" column "_total", T::kCounter, {}, help }
// A column of pg_stat_user_tables (the tables of POSTGRES_DB, as the exporter reads them).
#define PG_STAT_USER_TABLES(column, type, help) \
  { "pg_stat_user_tables_" column, type, {"datname", "schemaname", "relname"}, help }

}  // namespace

const char* ToString(MetricType t) {
  switch (t) {
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kUntyped:
      return "untyped";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

const std::vector<MetricFamilyDesc>& MetricFamilies() {
  static const std::vector<MetricFamilyDesc> kFamilies = {
      // pgrt itself.
      {"pgrt_up", T::kGauge, {}, "1: pgrt is running and answering."},
      {"pgrt_build_info", T::kGauge, {"version"}, "pgrt's version; the value is always 1."},
      {"pgrt_loop_lag_seconds",
       T::kGauge,
       {},
       "The worst delay of a due timer on pgrt's event loop since the previous scrape: how long "
       "something held the loop that must never wait."},
      {"pgrt_postgres_restarts_total",
       T::kCounter,
       {},
       "Unexpected postgres exits that pgrt restarted."},
      {"pgrt_node_phase",
       T::kGauge,
       {"phase"},
       "1 for the node's current phase (ready, hibernated, promoting, rewinding...)."},
      {"pgrt_node_role",
       T::kGauge,
       {"role"},
       "1 for the role the node is meant to have (primary, replica, standalone)."},
      {"pgrt_node_transitions_total",
       T::kCounter,
       {"from", "to"},
       "Moves of the node's controller since pgrt started, by mode left and mode reached."},
      // Scale to zero (PGRT_IDLE_TIMEOUT; runtime/sleeper.h): shown only when it is on.
      {"pgrt_sleep_asleep", T::kGauge, {}, "1 while postgres sleeps (hibernated when idle)."},
      {"pgrt_sleep_client_sessions",
       T::kGauge,
       {},
       "Client sessions now (held or relayed by pgrt, or connected to postgres directly): the "
       "node's activity."},
      {"pgrt_sleep_held_clients", T::kGauge, {}, "Clients waiting now for postgres to wake."},
      {"pgrt_sleeps_total", T::kCounter, {}, "Times postgres went to sleep."},
      {"pgrt_wakes_total", T::kCounter, {}, "Times postgres woke from sleep."},
      {"pgrt_wake_duration_seconds",
       T::kHistogram,
       {},
       "How long the first client of a wake waited for postgres (wakes no client waited for "
       "are not counted)."},
      {"pgrt_asleep_seconds_total", T::kCounter, {}, "Seconds postgres has slept."},
      {"pgrt_sleep_refused_clients_total",
       T::kCounter,
       {},
       "Clients sent an error by the door (the wake timed out or failed)."},
      {"pgrt_last_backup_age_seconds",
       T::kGauge,
       {},
       "Seconds since the newest successful backup finished (shown once a backup exists)."},
      {"pgrt_last_backup_failed", T::kGauge, {}, "1 when the most recent backup run failed."},
      // pgrt: the volumes it writes to (disk_metrics.cc); volume is data, wal or backup.
      {"pgrt_filesystem_avail_bytes",
       T::kGauge,
       {"volume", "path"},
       "Bytes available to postgres on the volume's file system."},
      {"pgrt_filesystem_size_bytes", T::kGauge, {"volume", "path"}, "Size of the file system."},
      {"pgrt_filesystem_files_free",
       T::kGauge,
       {"volume", "path"},
       "Free inodes on the file system (0 of 0: no fixed number)."},
      {"pgrt_filesystem_files", T::kGauge, {"volume", "path"}, "Inodes of the file system."},
      {"pgrt_filesystem_readonly",
       T::kGauge,
       {"volume", "path"},
       "1 when the file system is mounted read-only."},

      // pgrt: the certificates it serves (cert is postgres or api).
      {"pgrt_tls_cert_expiry_timestamp_seconds",
       T::kGauge,
       {"cert"},
       "Expiry (notAfter) of the certificate in use, in seconds since the epoch."},
      {"pgrt_tls_cert_rotations_total",
       T::kCounter,
       {"cert"},
       "New certificate sets installed without a restart since pgrt started."},
      {"pgrt_tls_cert_rotation_failures_total",
       T::kCounter,
       {"cert"},
       "New certificate sets refused (unreadable, not parsing, key mismatch, expired); the "
       "last good set stays in use."},

      // postgres: the server.
      {"pg_up", T::kGauge, {}, "1 when postgres answered this scrape's queries, else 0."},
      {"pg_postmaster_start_time_seconds",
       T::kGauge,
       {},
       "Time at which postgres started, in seconds since the epoch."},
      {"pg_exporter_last_scrape_error",
       T::kGauge,
       {},
       "1 when this scrape could not read postgres (pg_up 0), else 0."},
      {"pg_exporter_last_scrape_duration_seconds",
       T::kGauge,
       {},
       "How long the previous scrape took, in seconds."},
      {"pg_exporter_scrapes_total", T::kCounter, {}, "Scrapes of /metrics since pgrt started."},
      PG_SETTING("max_connections", "maximum number of concurrent connections."),
      PG_SETTING("superuser_reserved_connections", "connection slots reserved for superusers."),
      PG_SETTING("max_locks_per_transaction", "locks per transaction the lock table is sized for."),
      PG_SETTING("max_wal_senders", "maximum number of WAL sender processes."),
      PG_SETTING("max_replication_slots", "maximum number of replication slots."),
      PG_SETTING("autovacuum_vacuum_threshold", "row updates or deletes before a vacuum."),
      PG_SETTING("autovacuum_vacuum_scale_factor",
                 "row updates or deletes before a vacuum, as a fraction of the table."),
      PG_SETTING("autovacuum_analyze_threshold", "row changes before an analyze."),
      PG_SETTING("autovacuum_analyze_scale_factor",
                 "row changes before an analyze, as a fraction of the table."),
      {"pg_stat_activity_count",
       T::kUntyped,
       {"datname", "state"},
       "Gauge: client connections by database and state."},
      {"pg_stat_activity_max_tx_duration",
       T::kGauge,
       {"datname", "state"},
       "Seconds the oldest open transaction of a client connection in this database and state "
       "has been running (0: none)."},
      {"pg_locks_count",
       T::kUntyped,
       {"datname", "mode"},
       "Gauge: locks held or awaited in this database, by lock mode (lower case)."},
      PG_STAT_BGWRITER("checkpoints_timed", "Scheduled checkpoints that have been performed."),
      PG_STAT_BGWRITER("checkpoints_req", "Requested checkpoints that have been performed."),
      PG_STAT_BGWRITER("checkpoint_write_time",
                       "Time checkpoints spent writing files to disk, in milliseconds."),
      PG_STAT_BGWRITER("checkpoint_sync_time",
                       "Time checkpoints spent synchronizing files to disk, in milliseconds."),
      PG_STAT_BGWRITER("buffers_checkpoint", "Buffers written during checkpoints."),
      PG_STAT_BGWRITER("buffers_clean", "Buffers written by the background writer."),
      PG_STAT_BGWRITER("maxwritten_clean",
                       "Times the background writer stopped a cleaning scan having written too "
                       "many buffers."),
      PG_STAT_BGWRITER("buffers_backend", "Buffers written directly by a backend."),
      PG_STAT_BGWRITER("buffers_backend_fsync", "Times a backend had to execute its own fsync."),
      PG_STAT_BGWRITER("buffers_alloc", "Buffers allocated."),

      // postgres: per database.
      {"pg_stat_database_numbackends",
       T::kGauge,
       {"datname"},
       "Backends currently connected to this database."},
      PG_STAT_DATABASE("xact_commit", "transactions committed in this database."),
      PG_STAT_DATABASE("xact_rollback", "transactions rolled back in this database."),
      PG_STAT_DATABASE("blks_read", "disk blocks read in this database."),
      PG_STAT_DATABASE("blks_hit", "disk blocks found in the buffer cache."),
      PG_STAT_DATABASE("tup_returned", "rows returned by queries in this database."),
      PG_STAT_DATABASE("tup_fetched", "rows fetched by queries in this database."),
      PG_STAT_DATABASE("tup_inserted", "rows inserted by queries in this database."),
      PG_STAT_DATABASE("tup_updated", "rows updated by queries in this database."),
      PG_STAT_DATABASE("tup_deleted", "rows deleted by queries in this database."),
      PG_STAT_DATABASE("deadlocks", "deadlocks detected in this database."),
      PG_STAT_DATABASE("conflicts",
                       "queries canceled due to conflicts with recovery in this database (on a "
                       "replica)."),
      PG_STAT_DATABASE("temp_files", "temporary files created by queries in this database."),
      PG_STAT_DATABASE("temp_bytes", "bytes written to temporary files in this database."),
      PG_STAT_DATABASE("conflicts_confl_tablespace",
                       "queries canceled due to dropped tablespaces (on a replica)."),
      PG_STAT_DATABASE("conflicts_confl_lock", "queries canceled due to lock timeouts (replica)."),
      PG_STAT_DATABASE("conflicts_confl_snapshot",
                       "queries canceled due to old snapshots (on a replica)."),
      PG_STAT_DATABASE("conflicts_confl_bufferpin",
                       "queries canceled due to pinned buffers (on a replica)."),
      PG_STAT_DATABASE("conflicts_confl_deadlock",
                       "queries canceled due to deadlocks (on a replica)."),
      {"pg_database_size_bytes", T::kGauge, {"datname"}, "Disk space used by the database."},

      // postgres: WAL and replication.
      {"pg_wal_lsn_bytes",
       T::kGauge,
       {},
       "WAL position: the current write location on a primary, the replay location on a "
       "replica, in bytes since 0/0."},
      {"pg_replication_is_replica", T::kGauge, {}, "1 when postgres is in recovery (a replica)."},
      {"pg_replication_lag",
       T::kGauge,
       {},
       "Replica: seconds since the last replayed transaction, 0 when everything received is "
       "replayed."},
      {"pg_replication_lag_seconds",
       T::kGauge,
       {},
       "The same as pg_replication_lag (the exporter's newer name): 0 on a primary."},
      {"pg_replication_last_replay_seconds",
       T::kGauge,
       {},
       "Replica: seconds since the last replayed transaction, caught up or not; 0 on a "
       "primary."},
      {"pg_replication_lag_bytes",
       T::kGauge,
       {},
       "Replica: WAL received but not yet replayed, in bytes."},
      {"pg_stat_replication_pg_wal_lsn_diff",
       T::kGauge,
       {"application_name", "client_addr", "state"},
       "Primary: bytes of WAL a standby has not replayed yet."},
      {"pg_stat_replication_replay_lag_seconds",
       T::kGauge,
       {"application_name", "client_addr", "state"},
       "Primary: a standby's replay lag in seconds (0 when caught up and idle)."},
      {"pg_replication_slots_pg_wal_lsn_diff",
       T::kGauge,
       {"slot_name"},
       "WAL retained by a replication slot, in bytes."},
      {"pg_replication_slots_active", T::kGauge, {"slot_name"}, "1 when the slot is in use."},
      {"pg_stat_archiver_archived_count",
       T::kUntyped,
       {},
       "Counter: WAL files archived successfully."},
      {"pg_stat_archiver_failed_count",
       T::kUntyped,
       {},
       "Counter: failed attempts to archive WAL files."},
      {"pg_stat_archiver_last_archive_age",
       T::kGauge,
       {},
       "Seconds since the last WAL file was archived (shown once one was)."},

      // postgres: the tables of POSTGRES_DB (pg_stat_user_tables).
      PG_STAT_USER_TABLES("seq_scan", T::kUntyped, "Counter: sequential scans."),
      PG_STAT_USER_TABLES("seq_tup_read", T::kUntyped, "Counter: rows read by sequential scans."),
      PG_STAT_USER_TABLES("idx_scan", T::kUntyped, "Counter: index scans."),
      PG_STAT_USER_TABLES("idx_tup_fetch", T::kUntyped, "Counter: rows fetched by index scans."),
      PG_STAT_USER_TABLES("n_tup_ins", T::kUntyped, "Counter: rows inserted."),
      PG_STAT_USER_TABLES("n_tup_upd", T::kUntyped, "Counter: rows updated (HOT included)."),
      PG_STAT_USER_TABLES("n_tup_del", T::kUntyped, "Counter: rows deleted."),
      PG_STAT_USER_TABLES("n_tup_hot_upd", T::kUntyped, "Counter: rows HOT updated."),
      PG_STAT_USER_TABLES("n_live_tup", T::kGauge, "Estimated live rows."),
      PG_STAT_USER_TABLES("n_dead_tup", T::kGauge, "Estimated dead rows."),
      PG_STAT_USER_TABLES("n_mod_since_analyze", T::kGauge,
                          "Estimated rows modified since the table was last analyzed."),
      PG_STAT_USER_TABLES("last_vacuum", T::kGauge, "Last manual vacuum, Unix time (0: never)."),
      PG_STAT_USER_TABLES("last_autovacuum", T::kGauge, "Last autovacuum, Unix time (0: never)."),
      PG_STAT_USER_TABLES("last_analyze", T::kGauge, "Last manual analyze, Unix time (0: never)."),
      PG_STAT_USER_TABLES("last_autoanalyze", T::kGauge, "Last autoanalyze, Unix time (0: never)."),
      PG_STAT_USER_TABLES("vacuum_count", T::kUntyped, "Counter: manual vacuums."),
      PG_STAT_USER_TABLES("autovacuum_count", T::kUntyped, "Counter: autovacuums."),
      PG_STAT_USER_TABLES("analyze_count", T::kUntyped, "Counter: manual analyzes."),
      PG_STAT_USER_TABLES("autoanalyze_count", T::kUntyped, "Counter: autoanalyzes."),

      // pg_stat_statements, summed over top-level statements, when the extension is loaded
      // and created in POSTGRES_DB.
      {"pg_stat_statements_calls_total",
       T::kCounter,
       {"datname"},
       "Top-level statements executed."},
      {"pg_stat_statements_seconds_total",
       T::kCounter,
       {"datname"},
       "Time spent executing top-level statements, in seconds."},
      {"pg_stat_statements_rows_total",
       T::kCounter,
       {"datname"},
       "Rows retrieved or affected by top-level statements."},

      // PgBouncer (PGBOUNCER_ENABLED), from SHOW POOLS.
      {"pgbouncer_up", T::kGauge, {}, "1 when PgBouncer's admin console answered this scrape."},
      {"pgbouncer_pools_client_active_connections",
       T::kGauge,
       {"database", "user"},
       "Client connections linked to a server connection (cl_active)."},
      {"pgbouncer_pools_client_waiting_connections",
       T::kGauge,
       {"database", "user"},
       "Client connections waiting for a server connection (cl_waiting)."},
      {"pgbouncer_pools_server_active_connections",
       T::kGauge,
       {"database", "user"},
       "Server connections linked to a client (sv_active)."},
      {"pgbouncer_pools_server_used_connections",
       T::kGauge,
       {"database", "user"},
       "Server connections idle since their client left, not yet checked for reuse (sv_used)."},
      {"pgbouncer_pools_server_idle_connections",
       T::kGauge,
       {"database", "user"},
       "Server connections idle and ready for a client (sv_idle)."},
      {"pgbouncer_pools_client_maxwait_seconds",
       T::kGauge,
       {"database", "user"},
       "How long the oldest waiting client has waited (maxwait)."},
      // From PgBouncer's log: a counter by the exporter's name, so untyped (no _total).
      {"pgbouncer_errors_count",
       T::kUntyped,
       {"errmsg"},
       "Counter: errors PgBouncer sent to clients (its \"pooler error\" log lines) since pgrt "
       "started, by message; \"other\" past 32 distinct messages."},
  };
  return kFamilies;
}

const MetricFamilyDesc* FindMetricFamily(std::string_view name) {
  for (const auto& f : MetricFamilies())
    if (name == f.name) return &f;
  return nullptr;
}

}  // namespace pgrt
