// Restore at first boot from a real pgBackRest repository: to a point in time between two
// writes, to the end of the archive, and refusals of targets the repository cannot reach,
// which must leave PGDATA without a cluster.
#include <filesystem>
#include <thread>

#include "backup_helpers.h"

namespace pgrt::testing::backup {
namespace {

// A source node with a full backup in `repo`; left running.
std::unique_ptr<PgrtNode> SourceWithBackup(const Repo& repo) {
  auto source = NewNode(repo);
  StartReady(*source);
  if (::testing::Test::HasFatalFailure()) return source;
  CommandOutput full = Cli(*source, {"backup", "--type=full"});
  EXPECT_EQ(full.exit_code, 0) << full.output << source->Log();
  return source;
}

// A fresh node restoring from `repo`; its own password, so the restore must set it.
std::unique_ptr<PgrtNode> RestoringNode(const Repo& repo, const Env& extra = {}) {
  Env env = {{"PGRT_RESTORE_FROM", "pgbackrest"}, {"POSTGRES_PASSWORD", "restored-node-pw"}};
  for (const auto& [k, v] : extra) env[k] = v;
  return NewNode(repo, env);
}

bool HasCluster(const std::string& pgdata) {
  return std::filesystem::exists(pgdata + "/PG_VERSION");
}

TEST(Restore, PointInTimeBringsBackExactlyTheRowsCommittedBeforeTheTarget) {
  Repo repo;
  auto source = SourceWithBackup(repo);
  ASSERT_FALSE(::testing::Test::HasFailure());
  source->Query("CREATE TABLE t (i int)");
  for (int i = 1; i <= 3; ++i) source->Query("INSERT INTO t VALUES (" + std::to_string(i) + ")");
  // pgBackRest picks a backup that stopped before the target in whole seconds.
  std::this_thread::sleep_for(milliseconds(1100));
  const std::string target = source->Query("SELECT clock_timestamp()::text");
  std::this_thread::sleep_for(milliseconds(20));
  source->Query("INSERT INTO t VALUES (4)");
  source->Query("DROP TABLE t");
  ASSERT_TRUE(SwitchAndWaitArchived(*source)) << source->Log();
  source->Stop();

  auto restored = RestoringNode(repo, {{"PGRT_RESTORE_TARGET_TIME", target}});
  restored->Start();
  ASSERT_TRUE(restored->WaitHealthy(milliseconds(90000))) << restored->Log();
  EXPECT_EQ(restored->Query("SELECT string_agg(i::text, ',' ORDER BY i) FROM t"), "1,2,3");
  EXPECT_EQ(restored->Query("SELECT pg_is_in_recovery()"), "f");
  EXPECT_EQ(restored->Query("SELECT timeline_id FROM pg_control_checkpoint()"), "2");
  restored->Query("INSERT INTO t VALUES (5)");  // writable: a normal node now
  std::string autoconf = ReadFileOrEmpty(restored->pgdata() + "/postgresql.auto.conf");
  EXPECT_EQ(autoconf.find("recovery_target"), std::string::npos) << autoconf;
  EXPECT_EQ(autoconf.find("restore_command"), std::string::npos) << autoconf;
  EXPECT_FALSE(std::filesystem::exists(restored->pgdata() + "/.pgrt-init"));
  std::string timings = restored->Get("/__opr/timings").body;
  EXPECT_NE(timings.find("restore="), std::string::npos) << timings;
  EXPECT_NE(timings.find("recover="), std::string::npos) << timings;
  // It keeps archiving into the same stanza, on its new timeline.
  EXPECT_TRUE(SwitchAndWaitArchived(*restored)) << restored->Log();
}

TEST(Restore, WithoutATargetReplaysTheWholeArchive) {
  Repo repo;
  auto source = SourceWithBackup(repo);
  ASSERT_FALSE(::testing::Test::HasFailure());
  source->Query("CREATE TABLE after_backup AS SELECT g AS i FROM generate_series(1, 500) g");
  ASSERT_TRUE(SwitchAndWaitArchived(*source)) << source->Log();
  source->Stop();

  auto restored = RestoringNode(repo);
  restored->Start();
  ASSERT_TRUE(restored->WaitHealthy(milliseconds(90000))) << restored->Log();
  EXPECT_EQ(restored->Query("SELECT count(*) FROM after_backup"), "500");
  EXPECT_EQ(restored->Query("SELECT pg_is_in_recovery()"), "f");
  // The restore told its progress (the share of bytes pgBackRest reported), and it is over.
  EXPECT_NE(restored->Log().find("restore: 100 %"), std::string::npos) << restored->Log();
  EXPECT_TRUE(restored->Get("/__opr/status").body.find("\"progress\":null") != std::string::npos);
  // Restarted, it reuses the restored cluster untouched.
  ASSERT_TRUE(restored->Stop().has_value());
  size_t mark = restored->LogSize();
  restored->Start();
  ASSERT_TRUE(restored->WaitHealthy(milliseconds(60000))) << restored->Log();
  EXPECT_NE(restored->LogSince(mark).find("PGRT_RESTORE_FROM is ignored"), std::string::npos);
  EXPECT_EQ(restored->Query("SELECT count(*) FROM after_backup"), "500");
}

TEST(Restore, ATargetOutsideTheRepositoryFailsClearlyAndLeavesNoCluster) {
  Repo repo;
  auto source = SourceWithBackup(repo);
  ASSERT_FALSE(::testing::Test::HasFailure());
  ASSERT_TRUE(SwitchAndWaitArchived(*source)) << source->Log();
  source->Stop();

  struct Case {
    const char* target;
    const char* why;  // in pgrt's log
  };
  const Case cases[] = {
      // Not later: pgBackRest 2.45 cannot parse targets past 2038-01-19 (32-bit epoch).
      {"2037-12-31 00:00:00+00", "recovery ended before configured recovery target was reached"},
      {"2000-01-01 00:00:00+00", "unable to find backup set with stop time less than"},
  };
  for (const Case& c : cases) {
    auto restored = RestoringNode(repo, {{"PGRT_RESTORE_TARGET_TIME", c.target}});
    restored->Start();
    auto exited = restored->WaitExit(milliseconds(90000));
    ASSERT_TRUE(exited.has_value()) << c.target << restored->Log();
    EXPECT_EQ(ExitCode(exited), 1) << restored->Log();
    std::string log = restored->Log();
    EXPECT_NE(log.find("restore"), std::string::npos) << log;
    EXPECT_NE(log.find(c.why), std::string::npos) << log;
    EXPECT_NE(log.find(std::string("PGRT_RESTORE_TARGET_TIME=") + c.target), std::string::npos)
        << log;
    EXPECT_FALSE(HasCluster(restored->pgdata()));
    EXPECT_FALSE(std::filesystem::exists(restored->pgdata() + "/.pgrt-init"));
  }
}

}  // namespace
}  // namespace pgrt::testing::backup
