// LoadConfig: parsing, defaults and every class of invalid environment.
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

TEST(LoadConfig, MinimalEnvironmentLoads) {
  Result<Config> c = LoadConfig(Minimal());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->user, "app");
  EXPECT_EQ(c->password, "pw-Zq81");
  EXPECT_EQ(c->db, "appdb");
  EXPECT_TRUE(c->unknown_variables.empty());
}

TEST(LoadConfig, UnsetVariablesTakeTheDocumentedDefaults) {
  Result<Config> c = LoadConfig(Minimal());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->pgdata, "/var/lib/postgresql/data");
  EXPECT_EQ(c->port, 5432);
  EXPECT_EQ(c->host_auth_method, "scram-sha-256");
  EXPECT_EQ(c->pg_bindir, "/usr/lib/postgresql/15/bin");
  EXPECT_EQ(c->socket_dir, "/var/run/postgresql");
  EXPECT_EQ(c->restart_max, 5);
  EXPECT_EQ(c->restart_window_seconds, 60);
  EXPECT_EQ(c->replication_mode, ReplicationMode::kStandalone);
  EXPECT_EQ(c->replication_user, "replicator");
  EXPECT_EQ(c->wal_keep_size, "1GB");
  EXPECT_TRUE(c->hot_standby);
  EXPECT_EQ(c->replication_allowed_networks, std::vector<std::string>{"0.0.0.0/0"});
  EXPECT_FALSE(c->pgbouncer_enabled);
  EXPECT_EQ(c->pgbouncer_pool_mode, "transaction");
  EXPECT_EQ(c->backup, "none");
  EXPECT_EQ(c->restore_from, "");
  EXPECT_TRUE(c->shared_buffers.empty());
}

TEST(LoadConfig, EmptyValueCountsAsUnset) {
  Result<Config> c = LoadConfig(With({{"POSTGRES_PORT", ""}, {"PGRT_LOG_FORMAT", ""}}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->port, 5432);
  EXPECT_EQ(c->log_format, "text");
}

TEST(LoadConfig, ParsesTypedValues) {
  Result<Config> c =
      LoadConfig(With({{"POSTGRES_PORT", "6543"},
                       {"POSTGRES_TLS_REQUIRED", "YES"},
                       {"POSTGRES_TLS_CERT_FILE", "/tls/crt"},
                       {"POSTGRES_TLS_KEY_FILE", "/tls/key"},
                       {"POSTGRES_HOT_STANDBY", "Off"},
                       {"POSTGRES_EXTENSIONS", " pg_stat_statements , uuid-ossp,"},
                       {"POSTGRES_REPLICATION_ALLOWED_NETWORKS", "198.51.100.0/24,fd00::/8"},
                       {"POSTGRES_REPLICATION_MODE", "replica"},
                       {"POSTGRES_PRIMARY_HOST", "db-0.internal"},
                       {"POSTGRES_REPLICATION_PASSWORD", "rep"}}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->port, 6543);
  EXPECT_TRUE(c->tls_required);
  EXPECT_FALSE(c->hot_standby);
  EXPECT_EQ(c->extensions, (std::vector<std::string>{"pg_stat_statements", "uuid-ossp"}));
  EXPECT_EQ(c->replication_allowed_networks,
            (std::vector<std::string>{"198.51.100.0/24", "fd00::/8"}));
  EXPECT_EQ(c->replication_mode, ReplicationMode::kReplica);
}

struct Case {
  const char* name;
  const char* value;
};

TEST(LoadConfig, AcceptsEveryLegalSpelling) {
  const Case kCases[] = {
      {"POSTGRES_PORT", "1"},
      {"POSTGRES_PORT", "65535"},
      {"PGBOUNCER_ENABLED", "TRUE"},
      {"PGBOUNCER_ENABLED", "on"},
      {"PGBOUNCER_ENABLED", "1"},
      {"PGBOUNCER_ENABLED", "No"},
      {"POSTGRES_SHARED_BUFFERS", "128MB"},
      {"POSTGRES_SHARED_BUFFERS", "8kB"},
      {"POSTGRES_SHARED_BUFFERS", "1 GB"},
      {"POSTGRES_SHARED_BUFFERS", "16384"},
      {"POSTGRES_WAL_KEEP_SIZE", "2TB"},
      {"POSTGRES_REPLICATION_ALLOWED_NETWORKS", "203.0.113.0/24, ::1/128"},
      {"POSTGRES_REPLICATION_SLOT_NAME", "replica_2"},
      {"POSTGRES_RECOVERY_TARGET_TIMELINE", "3"},
      {"POSTGRES_RECOVERY_TARGET_TIMELINE", "current"},
      {"PGRT_API_ADDRESS", "::"},
      {"PGRT_RUN_AS", "pg-user_1"},
      {"PGRT_BACKUP", "pgbackrest"},
      {"PGRT_MAX_CONNECTIONS_IS_UNKNOWN", "x"},
  };
  for (const Case& c : kCases) {
    Result<Config> r = LoadConfig(With({{c.name, c.value}}));
    EXPECT_TRUE(r.ok()) << c.name << "=" << c.value << ": " << r.status().message();
  }
}

TEST(LoadConfig, AcceptsCronShapes) {
  for (const char* cron : {"0 3 * * *", "*/15 0-6 1,15 * 1-5", "0 0 * 1-12/2 7", "5,10 1\t2 3 4"}) {
    Result<Config> r = LoadConfig(With({{"PGRT_DUMP_SCHEDULE", cron}, {"PGRT_DUMP_DIR", "/d"}}));
    EXPECT_TRUE(r.ok()) << cron << ": " << r.status().message();
  }
}

TEST(LoadConfig, AcceptsHostileButLegalNames) {
  // Quoted with libpq later, so only length and NUL matter here.
  const std::string k63(63, 'n');
  Result<Config> c = LoadConfig(With({{"POSTGRES_USER", "We ird-User; DROP x %s"},
                                      {"POSTGRES_DB", "my-db'; DROP TABLE x"},
                                      {"POSTGRES_REPLICATION_USER", k63}}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->user, "We ird-User; DROP x %s");
  EXPECT_EQ(c->db, "my-db'; DROP TABLE x");
  EXPECT_EQ(c->replication_user, k63);
}

TEST(LoadConfig, RefusesSuperuserNamesInitdbCannotCreate) {
  for (const char* name : {"we\"ird", "o'brien", "cost$", "back\\slash"}) {
    Result<Config> c = LoadConfig(With({{"POSTGRES_USER", name}}));
    ASSERT_FALSE(c.ok()) << name;
    EXPECT_NE(c.status().message().find("POSTGRES_USER"), std::string::npos);
  }
}

struct BadCase {
  const char* what;
  Environment env;
  std::string expected;  // a substring of the error
};

std::vector<BadCase> BadValues() {
  return {
      {"missing user",
       {{"POSTGRES_PASSWORD", "x"}, {"POSTGRES_DB", "d"}},
       "POSTGRES_USER: required"},
      {"empty db", With({{"POSTGRES_DB", ""}}), "POSTGRES_DB: required"},
      {"missing password",
       {{"POSTGRES_USER", "u"}, {"POSTGRES_DB", "d"}},
       "POSTGRES_PASSWORD: required (or POSTGRES_PASSWORD_FILE)"},
      {"non-numeric port", With({{"POSTGRES_PORT", "abc"}}),
       "POSTGRES_PORT: \"abc\" is not a number (allowed: 1-65535)"},
      {"port with a space", With({{"POSTGRES_PORT", "5432 "}}), "is not a number"},
      {"port zero", With({{"POSTGRES_PORT", "0"}}), "POSTGRES_PORT: \"0\" is out of range"},
      {"port too big", With({{"PGBOUNCER_PORT", "65536"}}), "PGBOUNCER_PORT: \"65536\" is out of"},
      {"int overflow", With({{"POSTGRES_MAX_CONNECTIONS", "99999999999"}}), "is out of range"},
      {"restart max below 1", With({{"PGRT_RESTART_MAX", "0"}}), "PGRT_RESTART_MAX: \"0\" is out"},
      {"unknown enum", With({{"POSTGRES_REPLICATION_MODE", "foo"}}),
       "POSTGRES_REPLICATION_MODE: \"foo\" is not allowed (allowed: standalone, primary, replica)"},
      {"enum case", With({{"PGRT_LOG_FORMAT", "JSON"}}), "(allowed: text, json)"},
      {"bad bool", With({{"PGBOUNCER_ENABLED", "maybe"}}),
       "PGBOUNCER_ENABLED: \"maybe\" is not a boolean (allowed: true, false, on, off, yes, no"},
      {"bad size unit", With({{"POSTGRES_SHARED_BUFFERS", "12XB"}}), "\"12XB\" is not a size"},
      {"lower-case size unit", With({{"POSTGRES_SHARED_BUFFERS", "128mb"}}), "is not a size"},
      {"fractional size", With({{"POSTGRES_WAL_KEEP_SIZE", "1.5GB"}}), "is not a size"},
      {"relative PGDATA", With({{"PGDATA", "data"}}), "PGDATA: \"data\" is not an absolute path"},
      {"CIDR without prefix", With({{"POSTGRES_REPLICATION_ALLOWED_NETWORKS", "198.51.100.1"}}),
       "has no /prefix"},
      {"CIDR prefix too long", With({{"POSTGRES_REPLICATION_ALLOWED_NETWORKS", "198.51.100.0/33"}}),
       "is not 0-32"},
      {"IPv6 prefix too long", With({{"POSTGRES_REPLICATION_ALLOWED_NETWORKS", "::/129"}}),
       "is not 0-128"},
      {"CIDR bad address",
       With({{"POSTGRES_REPLICATION_ALLOWED_NETWORKS", "1.2.3.4/8,300.1.1.1/8"}}),
       "\"300.1.1.1\" is not an IP address"},
      {"slot name with upper case", With({{"POSTGRES_REPLICATION_SLOT_NAME", "Replica-Slot"}}),
       "POSTGRES_REPLICATION_SLOT_NAME: \"Replica-Slot\" is not a valid slot name"},
      {"slot name too long", With({{"POSTGRES_REPLICATION_SLOT_NAME", std::string(64, 'a')}}),
       "is not a valid slot name"},
      {"cron with 3 fields", With({{"PGRT_BACKUP_SCHEDULE", "* * *"}}), "expected 5 fields, got 3"},
      {"cron minute 60", With({{"PGRT_BACKUP_SCHEDULE", "60 * * * *"}}), "minute: \"60\" is out"},
      {"cron hour 24", With({{"PGRT_BACKUP_SCHEDULE", "0 24 * * *"}}), "hour: \"24\" is out"},
      {"cron day 0", With({{"PGRT_BACKUP_SCHEDULE", "0 0 0 * *"}}), "day-of-month"},
      {"cron step 0", With({{"PGRT_BACKUP_SCHEDULE", "*/0 * * * *"}}), "has a bad step"},
      {"cron reversed range", With({{"PGRT_BACKUP_SCHEDULE", "5-1 * * * *"}}), "reversed range"},
      {"cron macro", With({{"PGRT_BACKUP_SCHEDULE", "@daily"}}), "is not a cron expression"},
      {"name of 64 bytes", With({{"POSTGRES_USER", std::string(64, 'u')}}), "POSTGRES_USER: \"uuu"},
      {"extension with a space", With({{"POSTGRES_EXTENSIONS", "postgis, pg stat"}}),
       "\"pg stat\" is not a valid name"},
      {"API address as host name", With({{"PGRT_API_ADDRESS", "localhost"}}),
       "is not an IP address"},
      {"shell in run-as user", With({{"PGRT_RUN_AS", "root;id"}}), "is not a valid user name"},
      {"timeline zero", With({{"POSTGRES_RECOVERY_TARGET_TIMELINE", "0"}}), "is not a timeline"},
      {"line break in text", With({{"POSTGRES_ARCHIVE_COMMAND", "cp a\nb"}}),
       "\"cp a\\nb\" contains a control character"},
  };
}

TEST(LoadConfig, RejectsEveryInvalidValueNamingTheVariable) {
  for (const BadCase& c : BadValues()) {
    const std::string error = ErrorOf(c.env);
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << c.what << ": got \"" << error << "\", want \"" << c.expected << "\"";
  }
}

TEST(LoadConfig, ReportsAllProblemsOnePerLine) {
  std::string error = ErrorOf({{"POSTGRES_USER", "u"},
                               {"POSTGRES_PASSWORD", "p"},
                               {"POSTGRES_PORT", "abc"},
                               {"PGBOUNCER_ENABLED", "maybe"},
                               {"POSTGRES_REPLICATION_MODE", "replica"},
                               {"POSTGRES_REPLICATION_PASSWORD", "r"}});
  EXPECT_EQ(error,
            "POSTGRES_DB: required (or POSTGRES_DB_FILE)\n"
            "POSTGRES_PORT: \"abc\" is not a number (allowed: 1-65535)\n"
            "PGBOUNCER_ENABLED: \"maybe\" is not a boolean "
            "(allowed: true, false, on, off, yes, no, 1, 0)\n"
            "POSTGRES_PRIMARY_HOST: required when POSTGRES_REPLICATION_MODE=replica");
}

TEST(LoadConfig, CollectsUnknownVariablesWithoutFailing) {
  Result<Config> c = LoadConfig(With({{"POSTGRES_FOO", "1"},
                                      {"PGRT_BAR", "2"},
                                      {"PGBOUNCER_BAZ", "3"},
                                      {"POSTGRES_PORT_FILE", "/p"},  // not a _FILE variable
                                      {"POSTGRES_PASSWORD_FILE", ""},
                                      {"PGDATA", "/data"},
                                      {"PG_MAJOR", "15"},
                                      {"HOME", "/root"}}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->unknown_variables, (std::vector<std::string>{"PGBOUNCER_BAZ", "PGRT_BAR",
                                                            "POSTGRES_FOO", "POSTGRES_PORT_FILE"}));
}

TEST(LoadConfig, PassesPgbackrestVariablesThroughVerbatim) {
  Result<Config> c = LoadConfig(With({{"PGBACKREST_REPO1_TYPE", "s3"},
                                      {"PGBACKREST_REPO1_PATH", " /repo "},
                                      {"PGBACKREST_LOG_LEVEL_CONSOLE", ""},
                                      {"PGBACKRESTX", "no"}}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->pgbackrest_env, (Environment{{"PGBACKREST_LOG_LEVEL_CONSOLE", ""},
                                            {"PGBACKREST_REPO1_PATH", " /repo "},
                                            {"PGBACKREST_REPO1_TYPE", "s3"}}));
  EXPECT_TRUE(c->unknown_variables.empty());
}

}  // namespace
}  // namespace pgrt
