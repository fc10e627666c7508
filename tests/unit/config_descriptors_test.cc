// The descriptor table itself: complete, consistent with Config, and wired to the right members.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "config/descriptors.h"
#include "config_test_env.h"

namespace pgrt {
namespace {

using config_test::Minimal;

TEST(ConfigDescriptors, CoverEveryDocumentedVariable) {
  const char* kDocumented[] = {"POSTGRES_USER",
                               "POSTGRES_PASSWORD",
                               "POSTGRES_DB",
                               "PGDATA",
                               "POSTGRES_PORT",
                               "POSTGRES_LISTEN_ADDRESSES",
                               "POSTGRES_MAX_CONNECTIONS",
                               "POSTGRES_SHARED_BUFFERS",
                               "POSTGRES_INITDB_ARGS",
                               "POSTGRES_INITDB_WALDIR",
                               "POSTGRES_HOST_AUTH_METHOD",
                               "POSTGRES_EXTENSIONS",
                               "POSTGRES_INITDB_SCRIPTS",
                               "POSTGRES_TLS_CERT_FILE",
                               "POSTGRES_TLS_KEY_FILE",
                               "POSTGRES_TLS_CA_FILE",
                               "POSTGRES_TLS_REQUIRED",
                               "PGRT_API_ADDRESS",
                               "PGRT_API_PORT",
                               "PGRT_API_TOKEN",
                               "PGRT_API_TLS_CERT_FILE",
                               "PGRT_API_TLS_KEY_FILE",
                               "PGRT_API_TLS_CA_FILE",
                               "PGRT_API_TLS_CLIENT_CERT_FILE",
                               "PGRT_API_TLS_CLIENT_KEY_FILE",
                               "PGRT_RUN_AS",
                               "PGRT_LOG_FORMAT",
                               "PGRT_PG_BINDIR",
                               "PGRT_SOCKET_DIR",
                               "PGRT_RESTART_MAX",
                               "PGRT_RESTART_WINDOW",
                               "POSTGRES_REPLICATION_MODE",
                               "POSTGRES_REPLICATION_USER",
                               "POSTGRES_REPLICATION_PASSWORD",
                               "POSTGRES_PRIMARY_HOST",
                               "POSTGRES_PRIMARY_PORT",
                               "POSTGRES_REPLICATION_SLOT_NAME",
                               "POSTGRES_WAL_LEVEL",
                               "POSTGRES_MAX_WAL_SENDERS",
                               "POSTGRES_MAX_REPLICATION_SLOTS",
                               "POSTGRES_WAL_KEEP_SIZE",
                               "POSTGRES_HOT_STANDBY",
                               "POSTGRES_HOT_STANDBY_FEEDBACK",
                               "POSTGRES_SYNCHRONOUS_COMMIT",
                               "POSTGRES_SYNCHRONOUS_STANDBY_NAMES",
                               "POSTGRES_ARCHIVE_MODE",
                               "POSTGRES_ARCHIVE_COMMAND",
                               "POSTGRES_RESTORE_COMMAND",
                               "POSTGRES_RECOVERY_TARGET_TIMELINE",
                               "POSTGRES_PRIMARY_CONNINFO_EXTRA",
                               "POSTGRES_REPLICATION_ALLOWED_NETWORKS",
                               "PGRT_REPLICA_RECLONE",
                               "PGRT_NODE_NAME",
                               "PGRT_HA",
                               "PGRT_ETCD_ENDPOINTS",
                               "PGRT_ETCD_CA_FILE",
                               "PGRT_ETCD_CERT_FILE",
                               "PGRT_ETCD_KEY_FILE",
                               "PGRT_ETCD_USERNAME",
                               "PGRT_ETCD_PASSWORD",
                               "PGRT_CLUSTER_NAME",
                               "PGRT_ADVERTISE_HOST",
                               "PGRT_HA_TTL",
                               "PGRT_SYNC_MODE",
                               "PGRT_MAXIMUM_LAG_ON_FAILOVER",
                               "PGRT_IDLE_TIMEOUT",
                               "PGRT_WAKE_TIMEOUT",
                               "PGBOUNCER_ENABLED",
                               "PGBOUNCER_PORT",
                               "PGBOUNCER_POOL_MODE",
                               "PGBOUNCER_MAX_CLIENT_CONN",
                               "PGBOUNCER_DEFAULT_POOL_SIZE",
                               "PGBOUNCER_MIN_POOL_SIZE",
                               "PGBOUNCER_RESERVE_POOL_SIZE",
                               "PGBOUNCER_RESERVE_POOL_TIMEOUT",
                               "PGBOUNCER_SERVER_RESET_QUERY",
                               "PGBOUNCER_SERVER_IDLE_TIMEOUT",
                               "PGBOUNCER_SERVER_LIFETIME",
                               "PGRT_BACKUP",
                               "PGRT_BACKUP_SCHEDULE",
                               "PGRT_BACKUP_ON_REPLICA",
                               "PGRT_DUMP_SCHEDULE",
                               "PGRT_DUMP_DIR",
                               "PGRT_DUMP_RETENTION_DAYS",
                               "PGRT_RESTORE_FROM",
                               "PGRT_RESTORE_TARGET_TIME",
                               "PGRT_RESTORE_TARGET_LSN",
                               "PGRT_RESTORE_TARGET_XID"};
  for (const char* name : kDocumented) EXPECT_NE(FindDescriptor(name), nullptr) << name;
  EXPECT_EQ(Descriptors().size(), std::size(kDocumented));
}

TEST(ConfigDescriptors, OnlyCredentialsAreSecretAndOnlyIdentityIsRequired) {
  std::set<std::string> secret, required;
  for (const Descriptor& d : Descriptors()) {
    if (d.secret()) secret.insert(d.name);
    if (d.required) required.insert(d.name);
  }
  EXPECT_EQ(secret, (std::set<std::string>{"POSTGRES_PASSWORD", "POSTGRES_REPLICATION_PASSWORD",
                                           "PGRT_API_TOKEN", "PGRT_ETCD_PASSWORD"}));
  EXPECT_EQ(required, (std::set<std::string>{"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}));
}

TEST(ConfigDescriptors, NamesAndMembersAreUnique) {
  const auto& table = Descriptors();
  for (size_t i = 0; i < table.size(); ++i) {
    for (size_t j = i + 1; j < table.size(); ++j) {
      EXPECT_NE(std::string(table[i].name), table[j].name);
      EXPECT_FALSE(table[i].binding == table[j].binding)
          << table[i].name << " and " << table[j].name << " share a member";
    }
  }
}

TEST(ConfigDescriptors, EnumsAllowExactlyTheDocumentedValues) {
  EXPECT_EQ(FindDescriptor("POSTGRES_HOST_AUTH_METHOD")->allowed,
            (std::vector<std::string>{"scram-sha-256", "md5", "trust", "password", "reject"}));
  EXPECT_EQ(FindDescriptor("POSTGRES_SYNCHRONOUS_COMMIT")->allowed,
            (std::vector<std::string>{"on", "off", "local", "remote_write", "remote_apply"}));
  EXPECT_EQ(FindDescriptor("PGRT_RESTORE_FROM")->allowed, std::vector<std::string>{"pgbackrest"});
}

TEST(ConfigDescriptors, MemberInitializersAgreeWithTableDefaults) {
  Result<Config> loaded = LoadConfig(Minimal());
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const Config initial;
  for (const Descriptor& d : Descriptors()) {
    if (d.required || std::string(d.name) == "PGRT_PG_BINDIR") continue;  // no initializer
    EXPECT_EQ(RenderValue(d, initial), RenderValue(d, *loaded)) << d.name;
  }
}

// A valid value for `d`, different for every variable, so that a row bound to the wrong
// member shows up in the round trip below.
std::string Sample(const Descriptor& d, int i, const Config& defaults) {
  const std::string n = std::to_string(i);
  switch (d.type) {
    case VarType::kSecret:
      return std::string("secret ") + d.name;
    case VarType::kInt:
      return std::to_string(d.min + i % 3);
    case VarType::kPort:
      return std::to_string(20000 + i);
    case VarType::kBool:
      return RenderValue(d, defaults) == "true" ? "false" : "true";
    case VarType::kEnum:
      return d.allowed.back();
    case VarType::kSize:
      return n + "MB";
    case VarType::kPath:
      return std::string("/sample/") + d.name;
    case VarType::kAddress:
      return "127.0.0." + n;
    case VarType::kCidrList:
      return "10." + n + ".0.0/16,fd00::/8";
    case VarType::kNameList:
      return "ext" + n + ",other";
    case VarType::kCron:
      return std::to_string(i % 60) + " 3 * * 1-5";
    case VarType::kSlotName:
      return "slot_" + n;
    case VarType::kOsUser:
      return "user" + n;
    case VarType::kTimeline:
      return n;
    default:
      return std::string("text ") + d.name;
  }
}

TEST(ConfigDescriptors, EveryVariableReachesItsOwnMember) {
  const Config defaults;
  Environment env;
  int i = 1;
  for (const Descriptor& d : Descriptors()) env[d.name] = Sample(d, i++, defaults);
  // Restore targets exclude each other (and have their own shapes): time alone here, the
  // others in RestoreTargetsReachTheirMembers.
  env["PGRT_RESTORE_TARGET_LSN"] = env["PGRT_RESTORE_TARGET_XID"] = "";
  // Appended to primary_conninfo as it is, so it must be a connection string.
  env["POSTGRES_PRIMARY_CONNINFO_EXTRA"] = "application_name=sample";
  // Names are etcd key segments; endpoints are URLs; HA's own rules are in ConfigRules.
  env["PGRT_CLUSTER_NAME"] = "cluster-sample";
  env["PGRT_NODE_NAME"] = "node-sample";
  env["PGRT_ETCD_ENDPOINTS"] = "http://etcd-sample:2379";
  env["PGRT_HA"] = "off";
  env["PGRT_SYNC_MODE"] = "off";
  Result<Config> loaded = LoadConfig(env);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  for (const Descriptor& d : Descriptors()) {
    EXPECT_EQ(RenderValue(d, *loaded), env[d.name]) << d.name;
  }
}

TEST(ConfigDescriptors, RestoreTargetsReachTheirMembers) {
  Environment env = {{"POSTGRES_USER", "u"},
                     {"POSTGRES_PASSWORD", "p"},
                     {"POSTGRES_DB", "d"},
                     {"PGRT_RESTORE_FROM", "pgbackrest"}};
  env["PGRT_RESTORE_TARGET_LSN"] = "1A/3000060";
  Result<Config> lsn = LoadConfig(env);
  ASSERT_TRUE(lsn.ok()) << lsn.status().message();
  EXPECT_EQ(lsn->restore_target_lsn, "1A/3000060");
  env.erase("PGRT_RESTORE_TARGET_LSN");
  env["PGRT_RESTORE_TARGET_XID"] = "742";
  Result<Config> xid = LoadConfig(env);
  ASSERT_TRUE(xid.ok()) << xid.status().message();
  EXPECT_EQ(xid->restore_target_xid, "742");
}

TEST(ConfigDescriptors, AllowedTextDescribesRanges) {
  EXPECT_EQ(AllowedText(*FindDescriptor("POSTGRES_PORT")), "1-65535");
  EXPECT_EQ(AllowedText(*FindDescriptor("PGRT_LOG_FORMAT")), "text, json");
  EXPECT_EQ(AllowedText(*FindDescriptor("POSTGRES_PASSWORD")), "");
}

}  // namespace
}  // namespace pgrt
