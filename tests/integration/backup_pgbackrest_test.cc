// PGRT_BACKUP=pgbackrest against a real pgBackRest posix repository: the files pgrt writes,
// the stanza, archiving, full and incremental backups through `pgrt backup`, the listing
// through `pgrt backups`, and what /__opr/status says, including archiving failures.
#include <sys/stat.h>

#include "backup_helpers.h"

namespace pgrt::testing::backup {
namespace {

std::string Runtime(const PgrtNode& node) {
  return node.env().at("PGRT_SOCKET_DIR") + "/pgrt-" + std::to_string(node.pg_port());
}

TEST(PgBackRest, FullAndIncrementalBackupsThroughTheCliShowInBackupsAndStatus) {
  Repo repo;
  auto node = NewNode(repo);
  node->Start();
  ASSERT_TRUE(node->WaitHealthy(milliseconds(60000))) << node->Log();
  // Asked for at once, the backup usually queues behind the stanza check and follows it.
  CommandOutput full = Cli(*node, {"backup", "--type=full"});
  ASSERT_EQ(full.exit_code, 0) << full.output << node->Log();
  json first = json::parse(full.output.substr(full.output.find('{')), nullptr, false);
  EXPECT_EQ(first["type"], "full") << full.output;
  EXPECT_EQ(first["result"], "ok") << full.output;
  EXPECT_FALSE(first.value("label", "").empty()) << full.output;

  // pgrt's pgBackRest files live outside PGDATA, 0600, and hold no password.
  const std::string conf = Runtime(*node) + "/pgbackrest.conf";
  struct stat st {};
  ASSERT_EQ(::stat(conf.c_str(), &st), 0) << conf;
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadFileOrEmpty(conf).find(node->password()), std::string::npos);
  const std::string settings = ReadFileOrEmpty(node->pgdata() + "/pgrt.conf");
  EXPECT_NE(settings.find("archive_mode = 'on'"), std::string::npos) << settings;
  EXPECT_NE(settings.find("archive-push %p"), std::string::npos) << settings;
  EXPECT_EQ(settings.find(node->password()), std::string::npos);

  node->Query("CREATE TABLE t AS SELECT g AS i FROM generate_series(1, 1000) g");
  CommandOutput incr = Cli(*node, {"backup", "--type=incr"});
  ASSERT_EQ(incr.exit_code, 0) << incr.output << node->Log();

  CommandOutput list = Cli(*node, {"backups"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  json info = json::parse(list.output, nullptr, false);
  ASSERT_TRUE(info.is_array() && info.size() == 1) << list.output;
  const json& backups = info[0]["backup"];
  ASSERT_EQ(backups.size(), 2u) << list.output;
  EXPECT_EQ(backups[0]["type"], "full");
  EXPECT_EQ(backups[1]["type"], "incr");

  json status = GetJson(*node, "/__opr/status");
  const json& last = status["backup"]["last"];
  EXPECT_EQ(last["type"], "incr") << status.dump();
  EXPECT_EQ(last["result"], "ok");
  EXPECT_GT(last["sizeBytes"].get<int64_t>(), 0);
  EXPECT_EQ(last["label"], backups[1]["label"]);
  EXPECT_EQ(status["backup"]["archive"]["failedCount"], 0) << status.dump();
  EXPECT_GT(status["backup"]["archive"]["archivedCount"].get<int64_t>(), 0) << status.dump();
}

TEST(PgBackRest, BackupNeedsTheTokenAndIsOneAtATime) {
  Repo repo;
  auto node = NewNode(repo, {{"PGBACKREST_START_FAST", "n"}});  // waits for a checkpoint
  ASSERT_NO_FATAL_FAILURE(StartReady(*node));
  EXPECT_EQ(HttpRequest(node->api_port(), "POST", "/__opr/backup").status, 401);
  EXPECT_EQ(HttpRequest(node->api_port(), "POST", "/__opr/backup", "wrong").status, 403);
  EXPECT_EQ(HttpRequest(node->api_port(), "POST", "/__opr/backup?type=weekly", kToken).status, 400);
  EXPECT_EQ(HttpRequest(node->api_port(), "POST", "/__opr/backup", kToken).status, 202);
  HttpResponse second = HttpRequest(node->api_port(), "POST", "/__opr/backup", kToken);
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_NE(second.body.find("already running"), std::string::npos) << second.body;
}

TEST(PgBackRest, ArchivingFailuresShowInStatusWhilePostgresKeepsRunning) {
  TempDir dir;
  WriteFileOrDie(dir.Sub("not-a-dir"), "");  // a repository path pgBackRest cannot use
  auto node = std::make_unique<PgrtNode>(Env{{"PGRT_BACKUP", "pgbackrest"},
                                             {"PGBACKREST_REPO1_PATH", dir.Sub("not-a-dir")},
                                             {"PGRT_API_TOKEN", kToken}});
  node->Start();
  ASSERT_TRUE(node->WaitHealthy(milliseconds(60000))) << node->Log();
  node->Query("CREATE TABLE t AS SELECT 1 AS i");
  node->Query("SELECT pg_switch_wal()");
  json status;
  ASSERT_TRUE(WaitUntil(
      [&] {
        status = GetJson(*node, "/__opr/status");
        const json& a = status["backup"]["archive"];
        return a.is_object() && a["failedCount"].get<int64_t>() > 0 &&
               status["backup"]["stanza"].contains("error");
      },
      milliseconds(30000), milliseconds(100)))
      << status.dump() << node->Log();
  EXPECT_TRUE(status["backup"]["archive"]["lastFailedWal"].is_string()) << status.dump();
  EXPECT_EQ(node->Get("/__opr/health").status, 200);
  EXPECT_EQ(node->Query("SELECT count(*) FROM t"), "1");
}

}  // namespace
}  // namespace pgrt::testing::backup
