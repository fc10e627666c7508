// Role changes by environment and the data safety rules: a replica switched to standalone
// keeps its data; a replica never follows a primary its data does not come from, nor
// silently undoes a promotion (kept across restarts by the role file until the configuration
// changes), unless PGRT_REPLICA_RECLONE allows moving the data aside.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "integration/replication_helpers.h"

namespace pgrt::testing::repl {
namespace {

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

std::string Parent(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

// The PGDATA.broken-* directories next to `pgdata`.
std::vector<std::string> BrokenDirs(const std::string& pgdata) {
  return EntriesStartingWith(Parent(pgdata),
                             std::filesystem::path(pgdata).filename().string() + ".broken-");
}

}  // namespace

TEST(ReplicationRoles, ReplicaRestartedAsStandaloneKeepsItsDataAndIsWritable) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica));
  primary->Query("INSERT INTO t VALUES ('replicated')");
  ASSERT_TRUE(WaitForValue(*replica, "SELECT count(*) FROM t", "1")) << replica->Log();
  ASSERT_TRUE(Exists(replica->pgdata() + "/standby.signal"));

  ASSERT_EQ(ExitCode(replica->Stop()), 0) << replica->Log();
  replica->env()["POSTGRES_REPLICATION_MODE"] = "standalone";
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));

  EXPECT_FALSE(Exists(replica->pgdata() + "/standby.signal"));
  EXPECT_TRUE(BrokenDirs(replica->pgdata()).empty());
  EXPECT_EQ(replica->Query("SELECT v FROM t"), "replicated");
  EXPECT_EQ(replica->Query("SELECT pg_is_in_recovery()"), "f");
  std::string error;
  EXPECT_EQ(replica->Query("INSERT INTO t VALUES ('standalone') RETURNING v", &error), "standalone")
      << error;
  json view = Replication(*replica);
  EXPECT_EQ(Str(view, "mode"), "standalone") << view.dump();
  EXPECT_EQ(view["enabled"], false) << view.dump();
  EXPECT_TRUE(WaitForStatus(*replica, "/primary", 200));
  // The old primary no longer has a standby.
  EXPECT_TRUE(WaitUntil([&] { return Replication(*primary)["connectedStandbys"] == 0; },
                        milliseconds(10000), milliseconds(50)));
}

TEST(ReplicationRoles, RestartedReplicaReusesItsCloneEvenWhileThePrimaryIsDown) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica));
  primary->Query("INSERT INTO t VALUES ('first')");
  ASSERT_TRUE(WaitForValue(*replica, "SELECT count(*) FROM t", "1")) << replica->Log();

  ASSERT_EQ(ExitCode(replica->Stop()), 0) << replica->Log();
  size_t mark = replica->LogSize();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  EXPECT_EQ(replica->LogSince(mark).find("cloning"), std::string::npos) << replica->LogSince(mark);
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->LogSince(mark);
  primary->Query("INSERT INTO t VALUES ('second')");
  EXPECT_TRUE(WaitForValue(*replica, "SELECT count(*) FROM t", "2")) << replica->Log();

  // With its primary gone the replica still starts from its own data and serves reads.
  ASSERT_EQ(ExitCode(replica->Stop()), 0) << replica->Log();
  ASSERT_EQ(ExitCode(primary->Stop()), 0) << primary->Log();
  mark = replica->LogSize();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  EXPECT_EQ(replica->Query("SELECT count(*) FROM t"), "2");
  EXPECT_EQ(replica->Query("SELECT pg_is_in_recovery()"), "t");
  EXPECT_TRUE(BrokenDirs(replica->pgdata()).empty());
  json view = Replication(*replica);
  // No WAL receiver process: walReceiver is null (the OpenRuntimes runtime's answer).
  EXPECT_TRUE(view["walReceiver"].is_null()) << view.dump();
  EXPECT_EQ(Str(view, "walReceiverStatus"), "stopped") << view.dump();
  // Nothing received since the restart: no lag, and never a negative one.
  EXPECT_EQ(view["lagBytes"], 0) << view.dump();
  EXPECT_EQ(view["lagSeconds"], 0) << view.dump();

  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  primary->Query("INSERT INTO t VALUES ('third')");
  EXPECT_TRUE(WaitForValue(*replica, "SELECT count(*) FROM t", "3", milliseconds(30000)))
      << replica->LogSince(mark);
}

TEST(ReplicationRoles, ReplicaRefusesDataOfAnotherClusterAndLeavesItUntouched) {
  auto primary = NewPrimary();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  PgrtNode standalone;
  ASSERT_NO_FATAL_FAILURE(StartHealthy(standalone));
  ASSERT_EQ(standalone.Query("CREATE TABLE mine AS SELECT 'precious'::text AS v; SELECT 'ok'"),
            "ok");
  ASSERT_EQ(ExitCode(standalone.Stop()), 0) << standalone.Log();
  std::string pg_control = ReadFileOrEmpty(standalone.pgdata() + "/global/pg_control");
  ASSERT_FALSE(pg_control.empty());

  auto replica = NewReplica(*primary, "replica_slot", {{"PGDATA", standalone.pgdata()}});
  replica->Start();
  EXPECT_EQ(ExitCode(replica->WaitExit(milliseconds(30000))), 1) << replica->Log();
  EXPECT_NE(replica->Log().find("not a clone"), std::string::npos) << replica->Log();
  EXPECT_NE(replica->Log().find("PGRT_REPLICA_RECLONE"), std::string::npos) << replica->Log();

  EXPECT_TRUE(BrokenDirs(standalone.pgdata()).empty());
  EXPECT_FALSE(Exists(standalone.pgdata() + "/standby.signal"));
  EXPECT_EQ(ReadFileOrEmpty(standalone.pgdata() + "/global/pg_control"), pg_control);
  // The owner gets it back as it was.
  ASSERT_NO_FATAL_FAILURE(StartHealthy(standalone));
  EXPECT_EQ(standalone.Query("SELECT v FROM mine"), "precious");
  EXPECT_EQ(standalone.Query("SELECT pg_is_in_recovery()"), "f");
}

TEST(ReplicationRoles, WithRecloneForeignDataIsMovedAsideAndTheReplicaClones) {
  auto primary = NewPrimary();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  ASSERT_EQ(primary->Query("CREATE TABLE t AS SELECT 'from-primary'::text AS v; SELECT 'ok'"),
            "ok");
  PgrtNode standalone;
  ASSERT_NO_FATAL_FAILURE(StartHealthy(standalone));
  ASSERT_EQ(standalone.Query("CREATE TABLE mine AS SELECT 'precious'::text AS v; SELECT 'ok'"),
            "ok");
  ASSERT_EQ(ExitCode(standalone.Stop()), 0) << standalone.Log();
  std::string pg_control = ReadFileOrEmpty(standalone.pgdata() + "/global/pg_control");

  auto replica = NewReplica(*primary, "replica_slot",
                            {{"PGDATA", standalone.pgdata()}, {"PGRT_REPLICA_RECLONE", "true"}});
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->Log();
  EXPECT_EQ(replica->Query("SELECT v FROM t"), "from-primary");
  EXPECT_EQ(replica->Query("SELECT to_regclass('mine') IS NULL"), "t");

  auto broken = BrokenDirs(standalone.pgdata());
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_TRUE(Exists(broken[0] + "/PG_VERSION"));
  EXPECT_EQ(ReadFileOrEmpty(broken[0] + "/global/pg_control"), pg_control);
}

TEST(ReplicationRoles, APromotionOutlivesRestartsUntilTheConfigurationChanges) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica));
  ASSERT_EQ(Call(*replica, "POST", "/__opr/replication/promote").status, 200) << replica->Log();
  std::string error;
  ASSERT_EQ(replica->Query("INSERT INTO t VALUES ('written-after-promotion') RETURNING v", &error),
            "written-after-promotion")
      << error;
  ASSERT_EQ(ExitCode(replica->Stop()), 0) << replica->Log();

  // Same configuration (still POSTGRES_REPLICATION_MODE=replica): the role file wins.
  size_t mark = replica->LogSize();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  EXPECT_NE(replica->LogSince(mark).find("role: primary (promote requested through the API"),
            std::string::npos)
      << replica->LogSince(mark);
  EXPECT_EQ(replica->Query("SELECT pg_is_in_recovery()"), "f");
  EXPECT_EQ(replica->Query("SELECT v FROM t"), "written-after-promotion");
  EXPECT_TRUE(WaitForStatus(*replica, "/primary", 200));
  EXPECT_FALSE(Exists(replica->pgdata() + "/standby.signal"));
  ASSERT_EQ(ExitCode(replica->Stop()), 0) << replica->Log();

  // A new configuration (another slot) names a replica again: the promoted data may hold
  // writes its primary lacks, so it is refused...
  replica->env()["POSTGRES_REPLICATION_SLOT_NAME"] = "second_slot";
  mark = replica->LogSize();
  replica->Start();
  EXPECT_EQ(ExitCode(replica->WaitExit(milliseconds(30000))), 1) << replica->LogSince(mark);
  EXPECT_NE(replica->LogSince(mark).find("promoted"), std::string::npos) << replica->LogSince(mark);
  EXPECT_FALSE(Exists(replica->pgdata() + "/standby.signal"));
  EXPECT_TRUE(BrokenDirs(replica->pgdata()).empty());

  // ...unless the data may be moved aside and cloned again.
  replica->env()["PGRT_REPLICA_RECLONE"] = "true";
  mark = replica->LogSize();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->LogSince(mark);
  EXPECT_EQ(replica->Query("SELECT pg_is_in_recovery()"), "t");
  EXPECT_EQ(replica->Query("SELECT count(*) FROM t"), "0");
  json role = json::parse(ReadFileOrEmpty(replica->pgdata() + "/pgrt.role"), nullptr, false);
  ASSERT_FALSE(role.is_discarded());
  EXPECT_EQ(role["topology"]["role"], "replica") << role.dump();
  auto broken = BrokenDirs(replica->pgdata());
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_TRUE(Exists(broken[0] + "/pgrt.role"));
  EXPECT_TRUE(Exists(broken[0] + "/PG_VERSION"));
}

}  // namespace pgrt::testing::repl
