// How pgrt drives pgBackRest: its config file, command lines, environments and the reading
// of `pgbackrest info`. Pure functions of the Config; no pgBackRest runs here.
#include <gtest/gtest.h>

#include "backup/info.h"
#include "backup/pgbackrest.h"
#include "config/config.h"

namespace pgrt {
namespace {

Config Base() {
  Environment env = {{"POSTGRES_USER", "app"},
                     {"POSTGRES_PASSWORD", "pw:with\\colon"},
                     {"POSTGRES_DB", "appdb"},
                     {"PGDATA", "/data/pg"},
                     {"POSTGRES_PORT", "5433"},
                     {"PGRT_SOCKET_DIR", "/run/pg"},
                     {"PGRT_BACKUP", "pgbackrest"},
                     {"PGBACKREST_REPO1_PATH", "/repo"},
                     {"PGBACKREST_REPO1_S3_KEY_SECRET", "s3-secret"}};
  auto c = LoadConfig(env);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return *c;
}

TEST(PgBackRestFiles, LiveOutsidePgdataInAPerNodeRuntimeDirectory) {
  BackupPaths p = BackupPaths::From(Base());
  EXPECT_EQ(p.runtime_dir, "/run/pg/pgrt-5433");
  EXPECT_EQ(p.config_file, "/run/pg/pgrt-5433/pgbackrest.conf");
  EXPECT_EQ(p.passfile, "/run/pg/pgrt-5433/pgpass");
  EXPECT_EQ(p.lock_dir, "/run/pg/pgrt-5433/lock");
}

TEST(PgBackRestFiles, ConfigNamesTheLocalClusterAndHoldsNoSecret) {
  Config c = Base();
  std::string conf = RenderPgBackRestConfig(c);
  for (const char* line :
       {"[pgrt]\n", "pg1-path=/data/pg\n", "pg1-port=5433\n", "pg1-socket-path=/run/pg\n",
        "pg1-user=app\n", "lock-path=/run/pg/pgrt-5433/lock\n", "start-fast=y\n"})
    EXPECT_NE(conf.find(line), std::string::npos) << line << " in\n" << conf;
  EXPECT_EQ(conf.find("pw:with"), std::string::npos);
  EXPECT_EQ(conf.find("s3-secret"), std::string::npos);
  EXPECT_EQ(conf.find("repo1"), std::string::npos) << "PGBACKREST_* stay in the environment";
}

TEST(PgBackRestFiles, StanzaComesFromPgbackrestStanzaWhenGiven) {
  Config c = Base();
  EXPECT_EQ(StanzaName(c), "pgrt");
  c.pgbackrest_env["PGBACKREST_STANZA"] = "main";
  EXPECT_EQ(StanzaName(c), "main");
  EXPECT_NE(RenderPgBackRestConfig(c).find("[main]\n"), std::string::npos);
}

TEST(PgBackRestFiles, PassfileEscapesColonsAndBackslashes) {
  EXPECT_EQ(LocalPassfileLine(Base()), "*:5433:*:app:pw\\:with\\\\colon\n");
}

TEST(PgBackRestCommands, ArchiveCommandsUseTheConfigFileAndNoSecret) {
  Config c = Base();
  EXPECT_EQ(ArchivePushCommand(c),
            "/usr/bin/pgbackrest --config=/run/pg/pgrt-5433/pgbackrest.conf --stanza=pgrt "
            "archive-push %p");
  EXPECT_EQ(ArchiveGetCommand(c, "/data/pg/.pgrt-init"),
            "/usr/bin/pgbackrest --config=/run/pg/pgrt-5433/pgbackrest.conf --stanza=pgrt "
            "--pg1-path=/data/pg/.pgrt-init archive-get %f \"%p\"");
}

TEST(PgBackRestCommands, PathsWithShellOrPercentCharactersAreQuoted) {
  Config c = Base();
  c.socket_dir = "/run/it's 100%";
  EXPECT_EQ(ArchivePushCommand(c),
            "/usr/bin/pgbackrest '--config=/run/it'\\''s 100%%/pgrt-5433/pgbackrest.conf' "
            "--stanza=pgrt archive-push %p");
}

TEST(PgBackRestCommands, ChildEnvironmentGetsPgbackrestVariablesAndAPassfilePathOnly) {
  Config c = Base();
  auto env = PgBackRestEnvironment(c, {{"PATH", "/usr/bin"}});
  EXPECT_EQ(env["PGBACKREST_REPO1_PATH"], "/repo");
  EXPECT_EQ(env["PGPASSFILE"], "/run/pg/pgrt-5433/pgpass");
  for (const auto& [k, v] : env) EXPECT_EQ(v.find("pw:with"), std::string::npos) << k;
}

TEST(PgBackRestCommands, PostgresGetsPgbackrestVariablesOnlyWhenItRunsPgbackrest) {
  Config c = Base();
  std::map<std::string, std::string> env;
  AddArchiveEnvironment(c, env);
  EXPECT_EQ(env.count("PGBACKREST_REPO1_PATH"), 1u);
  EXPECT_EQ(env.count("PGPASSFILE"), 0u);
  c.backup = "none";
  std::map<std::string, std::string> none;
  AddArchiveEnvironment(c, none);
  EXPECT_TRUE(none.empty());
}

TEST(PgBackRestCommands, RestoreTargetsBecomeTypeTargetAndPromote) {
  Config c = Base();
  EXPECT_TRUE(RestoreTargetOptions(c).empty());
  c.restore_target_time = "2024-01-31 12:00:00+00";
  EXPECT_EQ(RestoreTargetOptions(c),
            (std::vector<std::string>{"--type=time", "--target=2024-01-31 12:00:00+00",
                                      "--target-action=promote"}));
  c.restore_target_time.clear();
  c.restore_target_lsn = "0/3000060";
  EXPECT_EQ(RestoreTargetOptions(c)[0], "--type=lsn");
  c.restore_target_lsn.clear();
  c.restore_target_xid = "741";
  EXPECT_EQ(RestoreTargetOptions(c)[1], "--target=741");
}

// The shape `pgbackrest info --output=json` prints (2.45), trimmed.
constexpr const char* kInfo = R"([{"archive":[],"backup":[
 {"label":"20240131-030000F","type":"full","timestamp":{"start":1706670000,"stop":1706670006},
  "info":{"size":23213831,"delta":23213831,"repository":{"size":3062537,"delta":3062537}}},
 {"label":"20240131-030000F_20240201-030000I","type":"incr",
  "timestamp":{"start":1706756400,"stop":1706756403},
  "info":{"size":23213831,"delta":8500,"repository":{"size":3062537,"delta":1200}}}],
 "name":"pgrt","status":{"code":0,"message":"ok"}}])";

TEST(PgBackRestInfo, TheNewestBackupIsTheLastListed) {
  auto r = LatestBackup(kInfo, "pgrt");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->has_value());
  const BackupRecord& b = **r;
  EXPECT_EQ(b.label, "20240131-030000F_20240201-030000I");
  EXPECT_EQ(b.type, "incr");
  EXPECT_EQ(b.stop_time, 1706756403);
  EXPECT_EQ(b.repository_bytes, 1200);
  EXPECT_EQ(b.database_bytes, 23213831);
}

TEST(PgBackRestInfo, NoBackupsIsAnAnswerAndAMissingStanzaAnError) {
  auto none = LatestBackup(
      R"([{"backup":[],"name":"pgrt","status":{"code":2,"message":"no valid backups"}}])", "pgrt");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto missing = LatestBackup(
      R"([{"name":"pgrt","status":{"code":1,"message":"missing stanza path"}}])", "pgrt");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing stanza path"), std::string::npos);
  EXPECT_FALSE(LatestBackup("WARN: not json", "pgrt").ok());
}

}  // namespace
}  // namespace pgrt
