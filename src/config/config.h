// Config: the validated, immutable settings of one pgrt node, read from the environment.
//
// Every variable is described once, in the descriptor table (descriptors.cc): its name,
// type, default, whether it is required or secret, the values it allows and one line of
// doc. That table drives parsing, validation, `pgrt config` and docs/configuration.md.
// Secrets, POSTGRES_USER, POSTGRES_DB and POSTGRES_INITDB_ARGS may come as X or as X_FILE (a
// path to a file holding the value), never both.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "util/status.h"

namespace pgrt {

using Environment = std::map<std::string, std::string>;

// The environment of this process, as a map.
Environment ProcessEnvironment();

enum class ReplicationMode { kStandalone, kPrimary, kReplica };
const char* ToString(ReplicationMode m);

struct Config {
  // Node.
  std::string user;      // POSTGRES_USER
  std::string password;  // POSTGRES_PASSWORD (secret)
  std::string db;        // POSTGRES_DB
  std::string pgdata = "/var/lib/postgresql/data";
  int port = 5432;
  std::string listen_addresses = "*";
  int max_connections = 100;
  std::string shared_buffers;  // empty: sized from the memory limit
  std::string initdb_args;
  std::string initdb_waldir;
  std::string host_auth_method = "scram-sha-256";
  std::vector<std::string> extensions;
  std::string initdb_scripts = "/docker-entrypoint-initdb.d";
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  bool tls_required = false;

  // Runtime.
  std::string api_address = "0.0.0.0";
  int api_port = 3000;
  std::string api_token;          // PGRT_API_TOKEN (secret); empty: mutating calls refused
  std::string api_tls_cert_file;  // PGRT_API_TLS_*: HTTPS; empty: plain HTTP
  std::string api_tls_key_file;
  std::string api_tls_ca_file;           // client certificates for mutating calls
  std::string api_tls_client_cert_file;  // what pgrt's CLI presents
  std::string api_tls_client_key_file;
  std::string run_as = "postgres";
  std::string log_format = "text";  // text|json
  std::string pg_bindir;            // PGRT_PG_BINDIR (default: the build's PostgreSQL)
  std::string socket_dir = "/var/run/postgresql";  // PGRT_SOCKET_DIR
  int restart_max = 5;                             // PGRT_RESTART_MAX crashes ...
  int restart_window_seconds = 60;  // ... within PGRT_RESTART_WINDOW seconds → exit 1

  // Replication.
  ReplicationMode replication_mode = ReplicationMode::kStandalone;
  std::string replication_user = "replicator";
  std::string replication_password;  // secret
  std::string primary_host;
  int primary_port = 5432;
  std::string replication_slot_name = "replica_slot";
  std::string wal_level = "replica";
  int max_wal_senders = 10;
  int max_replication_slots = 10;
  std::string wal_keep_size = "1GB";
  bool hot_standby = true;
  bool hot_standby_feedback = true;
  std::string synchronous_commit = "on";
  std::string synchronous_standby_names;
  std::string archive_mode = "off";
  std::string archive_command;
  std::string restore_command;
  std::string recovery_target_timeline = "latest";
  std::string primary_conninfo_extra;
  std::vector<std::string> replication_allowed_networks = {"0.0.0.0/0"};
  bool replica_reclone = false;  // PGRT_REPLICA_RECLONE: move a foreign PGDATA aside and clone
  std::string node_name;         // PGRT_NODE_NAME; empty: the host name

  // High availability (docs/ha.md).
  std::string ha = "off";                 // PGRT_HA: off|etcd
  std::string etcd_endpoints;             // PGRT_ETCD_ENDPOINTS: comma list of URLs
  std::string etcd_ca_file;               // PGRT_ETCD_CA_FILE
  std::string etcd_cert_file;             // PGRT_ETCD_CERT_FILE (client certificate)
  std::string etcd_key_file;              // PGRT_ETCD_KEY_FILE
  std::string etcd_username;              // PGRT_ETCD_USERNAME
  std::string etcd_password;              // PGRT_ETCD_PASSWORD (secret)
  std::string cluster_name = "pgrt";      // PGRT_CLUSTER_NAME: the etcd key prefix's last part
  std::string advertise_host;             // PGRT_ADVERTISE_HOST; empty: the host name
  int ha_ttl_seconds = 10;                // PGRT_HA_TTL: the leader lease
  std::string sync_mode = "off";          // PGRT_SYNC_MODE: off|on|strict
  int maximum_lag_on_failover = 1048576;  // PGRT_MAXIMUM_LAG_ON_FAILOVER, bytes
  bool ha_enabled() const { return ha == "etcd"; }

  // Scale to zero (docs/scale-to-zero.md).
  int idle_timeout_seconds = 0;   // PGRT_IDLE_TIMEOUT; 0: postgres never sleeps
  int wake_timeout_seconds = 30;  // PGRT_WAKE_TIMEOUT
  bool idle_enabled() const { return idle_timeout_seconds > 0; }

  // Pooling.
  bool pgbouncer_enabled = false;
  int pgbouncer_port = 6432;
  std::string pgbouncer_pool_mode = "transaction";
  int pgbouncer_max_client_conn = 1000;
  int pgbouncer_default_pool_size = 50;
  int pgbouncer_min_pool_size = 0;
  int pgbouncer_reserve_pool_size = 0;
  int pgbouncer_reserve_pool_timeout = 5;
  std::string pgbouncer_server_reset_query = "DISCARD ALL";
  int pgbouncer_server_idle_timeout = 600;
  int pgbouncer_server_lifetime = 3600;

  // Backups.
  std::string backup = "none";  // none|pgbackrest
  std::string backup_schedule;  // cron
  bool backup_on_replica = false;
  std::string dump_schedule;  // cron
  std::string dump_dir;
  int dump_retention_days = 7;
  std::string restore_from;  // "" | pgbackrest
  std::string restore_target_time;
  std::string restore_target_lsn;  // PGRT_RESTORE_TARGET_LSN, e.g. 0/3000060
  std::string restore_target_xid;  // PGRT_RESTORE_TARGET_XID
  Environment pgbackrest_env;      // every PGBACKREST_* variable, as given

  // Names of unknown POSTGRES_*/PGRT_* variables, for a warning each.
  std::vector<std::string> unknown_variables;
};

// Parses and validates. On failure the Status names every bad variable and what it
// allows, one problem per line. Reads the *_FILE files; touches nothing else.
Result<Config> LoadConfig(const Environment& env);

// `pgrt config`: one "NAME=value" line per variable, in table order, secrets as "********"
// when set, each followed by "  # default" / "  # env" / "  # file" to say where it came from.
std::string RenderEffectiveConfig(const Config& config, const Environment& env);

// Blanks and removes the secret variables from this process's environment, so no copy
// remains in /proc/self/environ or in a child between fork and exec. Call after LoadConfig.
void ScrubSecretsFromProcessEnvironment();

// docs/configuration.md's table, generated from the descriptors.
std::string RenderConfigReference();

}  // namespace pgrt
