#include "metrics/families.h"

namespace pgrt {
namespace {

using T = MetricType;

// The columns of pg_stat_database that /metrics shows, with the exporter's help text.
#define PG_STAT_DATABASE(column, help) \
  { "pg_stat_database_" column, T::kUntyped, {"datname"}, "Counter: " help }

}  // namespace

const char* ToString(MetricType t) {
  switch (t) {
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kUntyped:
      return "untyped";
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

      // postgres: the server.
      {"pg_up", T::kGauge, {}, "1 when postgres answered this scrape's queries, else 0."},
      {"pg_postmaster_start_time_seconds",
       T::kGauge,
       {},
       "Time at which postgres started, in seconds since the epoch."},
      {"pg_settings_max_connections", T::kGauge, {}, "max_connections."},
      {"pg_stat_activity_count",
       T::kUntyped,
       {"datname", "state"},
       "Gauge: client connections by database and state."},

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
      {"pgbouncer_pools_server_idle_connections",
       T::kGauge,
       {"database", "user"},
       "Server connections idle and ready for a client (sv_idle)."},
      {"pgbouncer_pools_client_maxwait_seconds",
       T::kGauge,
       {"database", "user"},
       "How long the oldest waiting client has waited (maxwait)."},
  };
  return kFamilies;
}

const MetricFamilyDesc* FindMetricFamily(std::string_view name) {
  for (const auto& f : MetricFamilies())
    if (name == f.name) return &f;
  return nullptr;
}

}  // namespace pgrt
