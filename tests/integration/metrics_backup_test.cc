// Backups in /metrics: no backup age before the first backup, its age after one (also after
// a restart, read back from the repository), and archiving counters that move.
#include <gtest/gtest.h>
#include <signal.h>

#include "backup_helpers.h"
#include "pooler_helpers.h"

namespace pgrt::testing::pool {

TEST(MetricsBackup, BackupAgeAppearsOnceABackupExistsAndSurvivesARestart) {
  backup::Repo repo;
  auto node = backup::NewNode(repo);
  ASSERT_NO_FATAL_FAILURE(backup::StartReady(*node));
  std::string body = Metrics(*node);
  EXPECT_FALSE(Value(body, "pgrt_last_backup_age_seconds")) << body;

  CommandOutput full = backup::Cli(*node, {"backup", "--type=full"});
  ASSERT_EQ(full.exit_code, 0) << full.output << node->Log();
  body = Metrics(*node);
  auto age = Value(body, "pgrt_last_backup_age_seconds");
  ASSERT_TRUE(age) << body;
  EXPECT_GE(*age, 0);
  EXPECT_LT(*age, 120);
  EXPECT_EQ(Value(body, "pgrt_last_backup_failed"), 0.0);
  EXPECT_GT(Value(body, "pg_stat_archiver_archived_count").value_or(0), 0) << body;
  EXPECT_TRUE(Value(body, "pg_stat_archiver_last_archive_age")) << body;

  ASSERT_EQ(ExitCode(node->Stop(SIGTERM)), 0) << node->Log();
  ASSERT_NO_FATAL_FAILURE(backup::StartReady(*node));
  EXPECT_TRUE(
      WaitUntil([&] { return Value(Metrics(*node), "pgrt_last_backup_age_seconds").has_value(); },
                milliseconds(30000), milliseconds(100)))
      << node->Log();
}

}  // namespace pgrt::testing::pool
