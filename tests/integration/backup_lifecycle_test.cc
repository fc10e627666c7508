// Backups in the node's life: a backup running when SIGTERM arrives is stopped first and
// cleanly (pgBackRest's process group), then postgres; a schedule fires from pgrt's loop.
#include <signal.h>

#include "backup_helpers.h"

namespace pgrt::testing::backup {
namespace {

std::vector<pid_t> PgBackRestBackups(pid_t root) {
  std::vector<pid_t> out;
  for (pid_t pid : DescendantsOf(root)) {
    std::string cmdline = ReadProcFile(pid, "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find("pgbackrest") != std::string::npos &&
        cmdline.find(" backup") != std::string::npos)
      out.push_back(pid);
  }
  return out;
}

TEST(BackupLifecycle, SigtermStopsARunningBackupCleanlyBeforePostgres) {
  Repo repo;
  // Without start-fast pgBackRest waits for the next checkpoint: a backup that lasts.
  auto node = NewNode(repo, {{"PGBACKREST_START_FAST", "n"}});
  ASSERT_NO_FATAL_FAILURE(StartReady(*node));
  ASSERT_EQ(HttpRequest(node->api_port(), "POST", "/__opr/backup", kToken).status, 202);
  std::vector<pid_t> pids;
  ASSERT_TRUE(WaitUntil([&] { return !(pids = PgBackRestBackups(node->pid())).empty(); },
                        milliseconds(15000)))
      << node->Log();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return node->Query(
                   "SELECT count(*) FROM pg_stat_activity WHERE "
                   "application_name LIKE 'pgBackRest%'") != "0";
      },
      milliseconds(15000)))
      << node->Log();

  // The password reaches pgBackRest as a passfile path only.
  for (pid_t pid : pids) {
    EXPECT_EQ(ReadProcFile(pid, "environ").find(node->password()), std::string::npos) << pid;
    EXPECT_EQ(ReadProcFile(pid, "cmdline").find(node->password()), std::string::npos) << pid;
    EXPECT_NE(ReadProcFile(pid, "environ").find("PGPASSFILE="), std::string::npos) << pid;
  }

  size_t mark = node->LogSize();
  auto exited = node->Stop(SIGTERM, milliseconds(30000));
  ASSERT_TRUE(exited.has_value()) << node->Log();
  EXPECT_EQ(ExitCode(exited), 0) << node->Log();
  for (pid_t pid : pids) EXPECT_FALSE(ProcessAlive(pid)) << pid;
  std::string log = node->LogSince(mark);
  size_t stopping = log.find("stopping the running backup");
  size_t failed = log.find("backup 1 failed: backup: stopped: pgrt is shutting down");
  size_t postgres = log.find("postgres stopped");
  ASSERT_NE(stopping, std::string::npos) << log;
  ASSERT_NE(failed, std::string::npos) << log;
  ASSERT_NE(postgres, std::string::npos) << log;
  EXPECT_LT(failed, postgres) << log;
}

TEST(BackupLifecycle, ScheduledBackupRunsFromPgrtsOwnLoop) {
  Repo repo;
  auto node = NewNode(repo, {{"PGRT_BACKUP_SCHEDULE", "* * * * *"}});
  ASSERT_NO_FATAL_FAILURE(StartReady(*node));
  json backup = GetJson(*node, "/__opr/backup");
  ASSERT_TRUE(backup["next"].is_string()) << backup.dump();
  ASSERT_TRUE(WaitUntil(
      [&] {
        backup = GetJson(*node, "/__opr/backup");
        return backup["last"].is_object() && backup["last"]["trigger"] == "schedule";
      },
      milliseconds(90000), milliseconds(200)))
      << backup.dump() << node->Log();
  EXPECT_EQ(backup["last"]["result"], "ok") << backup.dump();
  EXPECT_EQ(backup["last"]["type"], "full") << backup.dump();  // pgBackRest's first is a full
}

}  // namespace
}  // namespace pgrt::testing::backup
