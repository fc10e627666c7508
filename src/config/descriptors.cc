#include "config/descriptors.h"

#include <limits>
#include <utility>

#ifndef PGRT_DEFAULT_PG_BINDIR
#define PGRT_DEFAULT_PG_BINDIR "/usr/lib/postgresql/15/bin"
#endif

namespace pgrt {
namespace {

using Str = std::string Config::*;
using List = std::vector<std::string>;

// Row builders keep the table one variable per line or two.
Descriptor Typed(const char* name, VarType type, Binding member, const char* def, const char* doc) {
  return Descriptor{.name = name, .type = type, .default_text = def, .binding = member, .doc = doc};
}
Descriptor Text(const char* name, Str member, const char* def, const char* doc) {
  return Typed(name, VarType::kText, member, def, doc);
}
Descriptor Path(const char* name, Str member, const char* def, const char* doc) {
  return Typed(name, VarType::kPath, member, def, doc);
}
Descriptor Secret(const char* name, Str member, const char* doc) {
  return Typed(name, VarType::kSecret, member, "", doc);
}
Descriptor Int(const char* name, int Config::*member, const char* def, int min, int max,
               const char* doc) {
  Descriptor d = Typed(name, VarType::kInt, member, def, doc);
  d.min = min;
  d.max = max;
  return d;
}
Descriptor Port(const char* name, int Config::*member, const char* def, const char* doc) {
  Descriptor d = Int(name, member, def, 1, 65535, doc);
  d.type = VarType::kPort;
  return d;
}
Descriptor Bool(const char* name, bool Config::*member, const char* def, const char* doc) {
  return Typed(name, VarType::kBool, member, def, doc);
}
Descriptor Enum(const char* name, Binding member, const char* def, List allowed, const char* doc) {
  Descriptor d = Typed(name, VarType::kEnum, member, def, doc);
  d.allowed = std::move(allowed);
  return d;
}
Descriptor Required(Descriptor d) {
  d.required = true;
  return d;
}
Descriptor FileOk(Descriptor d) {
  d.from_file = true;
  return d;
}

constexpr int kPgIntMax = 262143;  // PostgreSQL's cap on max_connections and friends
constexpr int kIntMax = std::numeric_limits<int>::max();

std::vector<Descriptor> BuildTable() {
  using C = Config;
  using T = VarType;
  return {
      // Node.
      Required(FileOk(Typed("POSTGRES_USER", T::kPgName, &C::user, "",
                            "Superuser created at init. Required (the official image defaults "
                            "to postgres)."))),
      Required(Secret("POSTGRES_PASSWORD", &C::password, "Password of POSTGRES_USER.")),
      Required(FileOk(Typed("POSTGRES_DB", T::kPgName, &C::db, "",
                            "Database created at init. Required (the official image defaults "
                            "to POSTGRES_USER)."))),
      Path("PGDATA", &C::pgdata, "/var/lib/postgresql/data", "Data directory."),
      Port("POSTGRES_PORT", &C::port, "5432", "Port PostgreSQL listens on."),
      Text("POSTGRES_LISTEN_ADDRESSES", &C::listen_addresses, "*", "listen_addresses."),
      Int("POSTGRES_MAX_CONNECTIONS", &C::max_connections, "100", 1, kPgIntMax, "max_connections."),
      Typed("POSTGRES_SHARED_BUFFERS", T::kSize, &C::shared_buffers, "",
            "shared_buffers; unset: sized from the container's memory limit."),
      FileOk(Text("POSTGRES_INITDB_ARGS", &C::initdb_args, "",
                  "Extra initdb arguments, split at whitespace (line breaks of a _FILE too).")),
      Path("POSTGRES_INITDB_WALDIR", &C::initdb_waldir, "", "initdb --waldir."),
      Enum("POSTGRES_HOST_AUTH_METHOD", &C::host_auth_method, "scram-sha-256",
           {"scram-sha-256", "md5", "trust", "password", "reject"},
           "pg_hba.conf method for TCP connections, loopback included; the socket always "
           "asks for a password (see docs/security.md)."),
      Typed("POSTGRES_EXTENSIONS", T::kNameList, &C::extensions, "",
            "Extensions created in POSTGRES_DB at first init."),
      Path("POSTGRES_INITDB_SCRIPTS", &C::initdb_scripts, "/docker-entrypoint-initdb.d",
           "*.sql, *.sql.gz and *.sh run once, in order, at first init."),
      Path("POSTGRES_TLS_CERT_FILE", &C::tls_cert_file, "", "Server certificate (PEM)."),
      Path("POSTGRES_TLS_KEY_FILE", &C::tls_key_file, "", "Server private key (PEM)."),
      Path("POSTGRES_TLS_CA_FILE", &C::tls_ca_file, "", "CA bundle for client certificates."),
      Bool("POSTGRES_TLS_REQUIRED", &C::tls_required, "false",
           "Reject non-TLS remote connections."),

      // Runtime.
      Typed("PGRT_API_ADDRESS", T::kAddress, &C::api_address, "0.0.0.0",
            "Address of the management API."),
      Port("PGRT_API_PORT", &C::api_port, "3000", "Port of the management API."),
      Secret("PGRT_API_TOKEN", &C::api_token,
             "Bearer token for mutating API calls; unset: they are refused (403)."),
      Path("PGRT_API_TLS_CERT_FILE", &C::api_tls_cert_file, "",
           "HTTPS for the management API: its certificate (PEM, chain after it); reloaded "
           "when the file changes."),
      Path("PGRT_API_TLS_KEY_FILE", &C::api_tls_key_file, "",
           "Private key of PGRT_API_TLS_CERT_FILE."),
      Path("PGRT_API_TLS_CA_FILE", &C::api_tls_ca_file, "",
           "CA bundle for client certificates: set, mutating API calls need a certificate it "
           "signed as well as the token."),
      Path("PGRT_API_TLS_CLIENT_CERT_FILE", &C::api_tls_client_cert_file, "",
           "Client certificate pgrt's own commands (promote, backup, ...) present to the API."),
      Path("PGRT_API_TLS_CLIENT_KEY_FILE", &C::api_tls_client_key_file, "",
           "Private key of PGRT_API_TLS_CLIENT_CERT_FILE."),
      Typed("PGRT_RUN_AS", T::kOsUser, &C::run_as, "postgres",
            "User to drop to when started as root."),
      Enum("PGRT_LOG_FORMAT", &C::log_format, "text", {"text", "json"}, "Log line format."),
      Path("PGRT_PG_BINDIR", &C::pg_bindir, PGRT_DEFAULT_PG_BINDIR,
           "Directory of postgres, initdb, pg_basebackup."),
      Path("PGRT_SOCKET_DIR", &C::socket_dir, "/var/run/postgresql",
           "Directory of PostgreSQL's Unix socket."),
      Int("PGRT_RESTART_MAX", &C::restart_max, "5", 1, 1000,
          "Crashes of a child tolerated within PGRT_RESTART_WINDOW before pgrt exits (exits "
          "while the data or WAL volume is full or read-only do not count; a wake that fails "
          "leaves the node asleep instead, and the next wake tries again)."),
      Int("PGRT_RESTART_WINDOW", &C::restart_window_seconds, "60", 1, 86400,
          "Window, in seconds, for PGRT_RESTART_MAX."),

      // Replication.
      Enum("POSTGRES_REPLICATION_MODE", &C::replication_mode, "standalone",
           {"standalone", "primary", "replica"}, "Role of this node."),
      Typed("POSTGRES_REPLICATION_USER", T::kPgName, &C::replication_user, "replicator",
            "Role replicas connect as."),
      Secret("POSTGRES_REPLICATION_PASSWORD", &C::replication_password,
             "Password of POSTGRES_REPLICATION_USER; needed by primary and replica."),
      Text("POSTGRES_PRIMARY_HOST", &C::primary_host, "", "Primary to follow (replica mode)."),
      Port("POSTGRES_PRIMARY_PORT", &C::primary_port, "5432", "Port of the primary."),
      Typed("POSTGRES_REPLICATION_SLOT_NAME", T::kSlotName, &C::replication_slot_name,
            "replica_slot", "Physical slot a replica streams from."),
      Enum("POSTGRES_WAL_LEVEL", &C::wal_level, "replica", {"replica", "logical"}, "wal_level."),
      Int("POSTGRES_MAX_WAL_SENDERS", &C::max_wal_senders, "10", 0, kPgIntMax, "max_wal_senders."),
      Int("POSTGRES_MAX_REPLICATION_SLOTS", &C::max_replication_slots, "10", 0, kPgIntMax,
          "max_replication_slots."),
      Typed("POSTGRES_WAL_KEEP_SIZE", T::kSize, &C::wal_keep_size, "1GB", "wal_keep_size."),
      Bool("POSTGRES_HOT_STANDBY", &C::hot_standby, "on", "hot_standby."),
      Bool("POSTGRES_HOT_STANDBY_FEEDBACK", &C::hot_standby_feedback, "on",
           "hot_standby_feedback."),
      Enum("POSTGRES_SYNCHRONOUS_COMMIT", &C::synchronous_commit, "on",
           {"on", "off", "local", "remote_write", "remote_apply"}, "synchronous_commit."),
      Text("POSTGRES_SYNCHRONOUS_STANDBY_NAMES", &C::synchronous_standby_names, "",
           "synchronous_standby_names."),
      Enum("POSTGRES_ARCHIVE_MODE", &C::archive_mode, "off", {"off", "on", "always"},
           "archive_mode."),
      Text("POSTGRES_ARCHIVE_COMMAND", &C::archive_command, "", "archive_command."),
      Text("POSTGRES_RESTORE_COMMAND", &C::restore_command, "", "restore_command."),
      Typed("POSTGRES_RECOVERY_TARGET_TIMELINE", T::kTimeline, &C::recovery_target_timeline,
            "latest", "recovery_target_timeline."),
      Text("POSTGRES_PRIMARY_CONNINFO_EXTRA", &C::primary_conninfo_extra, "",
           "Appended to primary_conninfo (e.g. sslmode=require)."),
      Typed("POSTGRES_REPLICATION_ALLOWED_NETWORKS", T::kCidrList, &C::replication_allowed_networks,
            "0.0.0.0/0", "Networks allowed to connect for replication (pg_hba.conf)."),
      Bool("PGRT_REPLICA_RECLONE", &C::replica_reclone, "false",
           "Replica: move a PGDATA of another cluster aside and clone afresh."),
      Text("PGRT_NODE_NAME", &C::node_name, "",
           "This node's name (unset: the host name); it marks the role file as this node's "
           "own. Set it where the host name changes between restarts."),

      // High availability (docs/ha.md).
      Enum("PGRT_HA", &C::ha, "off", {"off", "etcd"},
           "Automatic failover: etcd elects the leader among nodes run with the same "
           "environment (POSTGRES_REPLICATION_MODE is then unused)."),
      Text("PGRT_ETCD_ENDPOINTS", &C::etcd_endpoints, "",
           "etcd v3 endpoints, comma-separated URLs (http://host:2379 or https://...)."),
      Path("PGRT_ETCD_CA_FILE", &C::etcd_ca_file, "", "CA bundle that signed etcd's certificate."),
      Path("PGRT_ETCD_CERT_FILE", &C::etcd_cert_file, "", "Client certificate for etcd (PEM)."),
      Path("PGRT_ETCD_KEY_FILE", &C::etcd_key_file, "", "Private key of PGRT_ETCD_CERT_FILE."),
      Text("PGRT_ETCD_USERNAME", &C::etcd_username, "", "etcd user (with PGRT_ETCD_PASSWORD)."),
      Secret("PGRT_ETCD_PASSWORD", &C::etcd_password, "Password of PGRT_ETCD_USERNAME."),
      Text("PGRT_CLUSTER_NAME", &C::cluster_name, "pgrt",
           "The cluster's name: its keys live under /pgrt/<name>/ in etcd."),
      Text("PGRT_ADVERTISE_HOST", &C::advertise_host, "",
           "How peers and load balancers reach this node's PostgreSQL and API (unset: the "
           "host name)."),
      Int("PGRT_HA_TTL", &C::ha_ttl_seconds, "10", 2, 3600,
          "Leader lease, in seconds: a dead leader is replaced within about this long; a "
          "leader cut off from etcd stops taking writes before it ends."),
      Enum("PGRT_SYNC_MODE", &C::sync_mode, "off", {"off", "on", "strict"},
           "Synchronous replication managed by the leader (on: only a synchronous standby "
           "may be promoted; strict: never fall back to asynchronous)."),
      Int("PGRT_MAXIMUM_LAG_ON_FAILOVER", &C::maximum_lag_on_failover, "1048576", 0, kIntMax,
          "A replica further behind than this many bytes of WAL is never promoted."),

      // Scale to zero (docs/scale-to-zero.md).
      Int("PGRT_IDLE_TIMEOUT", &C::idle_timeout_seconds, "0", 0, kIntMax,
          "Seconds without a client session after which postgres sleeps (0: never); pgrt "
          "then holds the client port (and PgBouncer's) and wakes postgres at the next "
          "connection."),
      Int("PGRT_WAKE_TIMEOUT", &C::wake_timeout_seconds, "30", 1, 3600,
          "Seconds a client is held while postgres wakes before it gets an error."),

      // Pooling.
      Bool("PGBOUNCER_ENABLED", &C::pgbouncer_enabled, "false", "Run PgBouncer."),
      Port("PGBOUNCER_PORT", &C::pgbouncer_port, "6432", "Port PgBouncer listens on."),
      Enum("PGBOUNCER_POOL_MODE", &C::pgbouncer_pool_mode, "transaction",
           {"session", "transaction", "statement"}, "pool_mode."),
      Int("PGBOUNCER_MAX_CLIENT_CONN", &C::pgbouncer_max_client_conn, "1000", 1, 1000000,
          "max_client_conn."),
      Int("PGBOUNCER_DEFAULT_POOL_SIZE", &C::pgbouncer_default_pool_size, "50", 1, 100000,
          "default_pool_size."),
      Int("PGBOUNCER_MIN_POOL_SIZE", &C::pgbouncer_min_pool_size, "0", 0, 100000, "min_pool_size."),
      Int("PGBOUNCER_RESERVE_POOL_SIZE", &C::pgbouncer_reserve_pool_size, "0", 0, 100000,
          "reserve_pool_size."),
      Int("PGBOUNCER_RESERVE_POOL_TIMEOUT", &C::pgbouncer_reserve_pool_timeout, "5", 0, 86400,
          "reserve_pool_timeout, in seconds."),
      Text("PGBOUNCER_SERVER_RESET_QUERY", &C::pgbouncer_server_reset_query, "DISCARD ALL",
           "server_reset_query."),
      Int("PGBOUNCER_SERVER_IDLE_TIMEOUT", &C::pgbouncer_server_idle_timeout, "600", 0, kIntMax,
          "server_idle_timeout, in seconds."),
      Int("PGBOUNCER_SERVER_LIFETIME", &C::pgbouncer_server_lifetime, "3600", 0, kIntMax,
          "server_lifetime, in seconds."),

      // Backups. PGBACKREST_* variables are passed to pgBackRest as they are.
      Enum("PGRT_BACKUP", &C::backup, "none", {"none", "pgbackrest"}, "Physical backups."),
      Typed("PGRT_BACKUP_SCHEDULE", T::kCron, &C::backup_schedule, "",
            "When to take pgBackRest backups (cron, UTC)."),
      Bool("PGRT_BACKUP_ON_REPLICA", &C::backup_on_replica, "false",
           "Take scheduled backups on a replica too."),
      Typed("PGRT_DUMP_SCHEDULE", T::kCron, &C::dump_schedule, "",
            "When to take logical pg_dump backups (cron, UTC)."),
      Path("PGRT_DUMP_DIR", &C::dump_dir, "", "Directory for pg_dump files."),
      Int("PGRT_DUMP_RETENTION_DAYS", &C::dump_retention_days, "7", 1, 36500,
          "Dumps older than this are deleted."),
      Enum("PGRT_RESTORE_FROM", &C::restore_from, "", {"pgbackrest"},
           "Restore an empty PGDATA from this source at first boot."),
      Text("PGRT_RESTORE_TARGET_TIME", &C::restore_target_time, "",
           "Point-in-time target of the restore (e.g. 2024-01-31 12:00:00+00)."),
      Text("PGRT_RESTORE_TARGET_LSN", &C::restore_target_lsn, "",
           "Restore up to this WAL location (e.g. 0/3000060) instead of a time."),
      Text("PGRT_RESTORE_TARGET_XID", &C::restore_target_xid, "",
           "Restore up to this transaction ID instead of a time."),
  };
}

}  // namespace

const std::vector<Descriptor>& Descriptors() {
  static const std::vector<Descriptor> kTable = BuildTable();
  return kTable;
}

const Descriptor* FindDescriptor(std::string_view name) {
  for (const Descriptor& d : Descriptors()) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

}  // namespace pgrt
