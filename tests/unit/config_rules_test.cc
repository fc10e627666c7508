// LoadConfig: rules that tie variables together.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "config_test_env.h"

namespace pgrt {
namespace {

using config_test::ErrorOf;
using config_test::Minimal;
using config_test::With;

struct BadCase {
  const char* what;
  Environment env;
  std::string expected;  // a substring of the error
};

std::vector<BadCase> BrokenRules() {
  return {
      {"replica without primary host",
       With({{"POSTGRES_REPLICATION_MODE", "replica"}, {"POSTGRES_REPLICATION_PASSWORD", "r"}}),
       "POSTGRES_PRIMARY_HOST: required when POSTGRES_REPLICATION_MODE=replica"},
      {"replica without replication password",
       With({{"POSTGRES_REPLICATION_MODE", "replica"}, {"POSTGRES_PRIMARY_HOST", "p"}}),
       "POSTGRES_REPLICATION_PASSWORD: required when POSTGRES_REPLICATION_MODE=replica"},
      {"primary without replication password", With({{"POSTGRES_REPLICATION_MODE", "primary"}}),
       "POSTGRES_REPLICATION_PASSWORD: required when POSTGRES_REPLICATION_MODE=primary"},
      {"primary without WAL senders",
       With({{"POSTGRES_REPLICATION_MODE", "primary"},
             {"POSTGRES_REPLICATION_PASSWORD", "r"},
             {"POSTGRES_MAX_WAL_SENDERS", "0"}}),
       "POSTGRES_MAX_WAL_SENDERS: must be at least 1"},
      {"HA without etcd endpoints",
       With({{"PGRT_HA", "etcd"}, {"POSTGRES_REPLICATION_PASSWORD", "r"}}),
       "PGRT_ETCD_ENDPOINTS: required when PGRT_HA=etcd"},
      {"HA with an endpoint that is not a URL",
       With({{"PGRT_HA", "etcd"},
             {"POSTGRES_REPLICATION_PASSWORD", "r"},
             {"PGRT_ETCD_ENDPOINTS", "http://e1:2379,e2:2379"}}),
       "PGRT_ETCD_ENDPOINTS: \"e2:2379\" is not an http:// or https:// URL"},
      {"HA without replication password",
       With({{"PGRT_HA", "etcd"}, {"PGRT_ETCD_ENDPOINTS", "http://e1:2379"}}),
       "POSTGRES_REPLICATION_PASSWORD: required when PGRT_HA=etcd"},
      {"HA with a fixed replication mode",
       With({{"PGRT_HA", "etcd"},
             {"PGRT_ETCD_ENDPOINTS", "http://e1:2379"},
             {"POSTGRES_REPLICATION_PASSWORD", "r"},
             {"POSTGRES_REPLICATION_MODE", "primary"}}),
       "POSTGRES_REPLICATION_MODE: not used with PGRT_HA=etcd"},
      {"sleeping with HA",
       With({{"PGRT_HA", "etcd"},
             {"PGRT_ETCD_ENDPOINTS", "http://e1:2379"},
             {"POSTGRES_REPLICATION_PASSWORD", "r"},
             {"PGRT_IDLE_TIMEOUT", "60"}}),
       "PGRT_IDLE_TIMEOUT: not available with PGRT_HA=etcd"},
      {"HA with a fixed primary",
       With({{"PGRT_HA", "etcd"},
             {"PGRT_ETCD_ENDPOINTS", "http://e1:2379"},
             {"POSTGRES_REPLICATION_PASSWORD", "r"},
             {"POSTGRES_PRIMARY_HOST", "db1"}}),
       "POSTGRES_PRIMARY_HOST: not used with PGRT_HA=etcd"},
      {"HA with the superuser as replication user",
       With({{"PGRT_HA", "etcd"},
             {"PGRT_ETCD_ENDPOINTS", "http://e1:2379"},
             {"POSTGRES_REPLICATION_PASSWORD", "r"},
             {"POSTGRES_REPLICATION_USER", "app"}}),
       "POSTGRES_REPLICATION_USER: must differ from POSTGRES_USER"},
      {"sync mode without HA", With({{"PGRT_SYNC_MODE", "on"}}),
       "PGRT_SYNC_MODE: needs PGRT_HA=etcd"},
      {"cluster name with a slash", With({{"PGRT_CLUSTER_NAME", "a/b"}}),
       "PGRT_CLUSTER_NAME: \"a/b\" is not a name"},
      {"node name with a space", With({{"PGRT_NODE_NAME", "db 1"}}),
       "PGRT_NODE_NAME: \"db 1\" is not a name"},
      {"etcd user without password", With({{"PGRT_ETCD_USERNAME", "u"}}),
       "PGRT_ETCD_PASSWORD: required when PGRT_ETCD_USERNAME is set"},
      {"certificate without key", With({{"POSTGRES_TLS_CERT_FILE", "/c"}}),
       "POSTGRES_TLS_KEY_FILE: required when POSTGRES_TLS_CERT_FILE is set"},
      {"key without certificate", With({{"POSTGRES_TLS_KEY_FILE", "/k"}}),
       "POSTGRES_TLS_CERT_FILE: required when POSTGRES_TLS_KEY_FILE is set"},
      {"TLS required without certificate", With({{"POSTGRES_TLS_REQUIRED", "on"}}),
       "POSTGRES_TLS_REQUIRED: needs POSTGRES_TLS_CERT_FILE"},
      {"restore target without source", With({{"PGRT_RESTORE_TARGET_TIME", "2024-01-01"}}),
       "PGRT_RESTORE_TARGET_TIME: needs PGRT_RESTORE_FROM"},
      {"restore LSN without source", With({{"PGRT_RESTORE_TARGET_LSN", "0/3000060"}}),
       "PGRT_RESTORE_TARGET_LSN: needs PGRT_RESTORE_FROM"},
      {"two restore targets",
       With({{"PGRT_RESTORE_FROM", "pgbackrest"},
             {"PGRT_RESTORE_TARGET_TIME", "2024-01-01"},
             {"PGRT_RESTORE_TARGET_XID", "1234"}}),
       "give one of PGRT_RESTORE_TARGET_TIME"},
      {"restore LSN that is not a location",
       With({{"PGRT_RESTORE_FROM", "pgbackrest"}, {"PGRT_RESTORE_TARGET_LSN", "3000060"}}),
       "PGRT_RESTORE_TARGET_LSN: \"3000060\" is not a WAL location"},
      {"restore XID that is not a number",
       With({{"PGRT_RESTORE_FROM", "pgbackrest"}, {"PGRT_RESTORE_TARGET_XID", "12a"}}),
       "PGRT_RESTORE_TARGET_XID: \"12a\" is not a transaction ID"},
      {"dump schedule without directory", With({{"PGRT_DUMP_SCHEDULE", "0 3 * * *"}}),
       "PGRT_DUMP_SCHEDULE: needs PGRT_DUMP_DIR"},
      {"backup schedule without backups", With({{"PGRT_BACKUP_SCHEDULE", "0 3 * * *"}}),
       "PGRT_BACKUP_SCHEDULE: needs PGRT_BACKUP=pgbackrest"},
      {"API on the PostgreSQL port", With({{"PGRT_API_PORT", "5432"}}),
       "PGRT_API_PORT: 5432 is also POSTGRES_PORT"},
      {"PgBouncer on the PostgreSQL port",
       With({{"PGBOUNCER_ENABLED", "true"}, {"PGBOUNCER_PORT", "5432"}}),
       "PGBOUNCER_PORT: 5432 is also POSTGRES_PORT"},
      {"socket directory too long", With({{"PGRT_SOCKET_DIR", "/" + std::string(100, 's')}}),
       "is longer than 107 bytes"},
  };
}

TEST(ConfigRules, RejectsBrokenCrossFieldRules) {
  for (const BadCase& c : BrokenRules()) {
    const std::string error = ErrorOf(c.env);
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << c.what << ": got \"" << error << "\", want \"" << c.expected << "\"";
  }
}

TEST(ConfigRules, CompleteRoleSetupsLoad) {
  const Environment kCases[] = {
      With({{"POSTGRES_REPLICATION_MODE", "primary"}, {"POSTGRES_REPLICATION_PASSWORD", "r"}}),
      With({{"POSTGRES_REPLICATION_MODE", "replica"},
            {"POSTGRES_REPLICATION_PASSWORD", "r"},
            {"POSTGRES_PRIMARY_HOST", "db-0"}}),
      With({{"POSTGRES_TLS_CERT_FILE", "/c"},
            {"POSTGRES_TLS_KEY_FILE", "/k"},
            {"POSTGRES_TLS_REQUIRED", "true"}}),
      With({{"PGRT_RESTORE_FROM", "pgbackrest"}, {"PGRT_RESTORE_TARGET_TIME", "2024-01-01"}}),
      With({{"PGRT_RESTORE_FROM", "pgbackrest"}, {"PGRT_RESTORE_TARGET_LSN", "1A/3000060"}}),
      With({{"PGRT_RESTORE_FROM", "pgbackrest"}, {"PGRT_RESTORE_TARGET_XID", "7421"}}),
      With({{"PGRT_BACKUP", "pgbackrest"},
            {"PGRT_BACKUP_SCHEDULE", "0 3 * * *"},
            {"PGRT_DUMP_SCHEDULE", "0 4 * * *"},
            {"PGRT_DUMP_DIR", "/dumps"}}),
      // PgBouncer's port is held by a door of its own; PgBouncer sleeps with postgres.
      With({{"PGBOUNCER_ENABLED", "true"}, {"PGRT_IDLE_TIMEOUT", "60"}}),
  };
  for (const Environment& env : kCases) {
    Result<Config> c = LoadConfig(env);
    EXPECT_TRUE(c.ok()) << c.status().message();
  }
}

TEST(ConfigRules, DisabledPgBouncerMayShareItsPortSetting) {
  Result<Config> c = LoadConfig(With({{"PGBOUNCER_PORT", "5432"}}));
  EXPECT_TRUE(c.ok()) << c.status().message();
}

TEST(ConfigRules, InvalidVariableIsNotBlamedAgainByCrossFieldRules) {
  std::string error =
      ErrorOf(With({{"POSTGRES_TLS_CERT_FILE", "relative.crt"}, {"POSTGRES_TLS_KEY_FILE", "/k"}}));
  EXPECT_EQ(error, "POSTGRES_TLS_CERT_FILE: \"relative.crt\" is not an absolute path");
}

}  // namespace
}  // namespace pgrt
