// Logical dumps through `pgrt dump`: every database but the templates plus the globals,
// complete files only, restorable with pg_restore into a fresh node, and retention that
// removes only pgrt's own old dumps.
#include <pwd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <filesystem>

#include "backup_helpers.h"

namespace pgrt::testing::backup {
namespace {

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Find(const std::vector<std::string>& names, const std::string& prefix) {
  for (const auto& n : names)
    if (n.rfind(prefix, 0) == 0) return n;
  return "";
}

std::unique_ptr<PgrtNode> DumpingNode(const std::string& dir, const Env& extra = {}) {
  Env env = {{"PGRT_DUMP_DIR", dir}, {"PGRT_API_TOKEN", kToken}};
  for (const auto& [k, v] : extra) env[k] = v;
  return std::make_unique<PgrtNode>(env);
}

TEST(Dump, WritesEveryDatabaseAndTheGlobalsAndRestoresIntoAFreshNode) {
  TempDir dumps;
  const std::string dir = dumps.Sub("dumps");
  auto node = DumpingNode(dir);
  node->Start();
  ASSERT_TRUE(node->WaitHealthy(milliseconds(60000))) << node->Log();
  node->Query("CREATE TABLE t AS SELECT g AS i, md5(g::text) AS s FROM generate_series(1, 100) g");
  node->Query("CREATE DATABASE \"other db\"");
  node->Query("CREATE ROLE reader LOGIN");

  CommandOutput out = Cli(*node, {"dump"});
  ASSERT_EQ(out.exit_code, 0) << out.output << node->Log();
  std::vector<std::string> names = Names(dir);
  ASSERT_EQ(names.size(), 4u) << ::testing::PrintToString(names);  // no temp file left
  const std::string appdb = Find(names, "appdb-"), other = Find(names, "other%20db-"),
                    postgres = Find(names, "postgres-"), globals = Find(names, "globals-");
  EXPECT_FALSE(appdb.empty() || other.empty() || postgres.empty() || globals.empty())
      << ::testing::PrintToString(names);
  EXPECT_EQ(Find(names, "template"), "");
  for (const auto& n : names) {
    struct stat st {};
    ASSERT_EQ(::stat((dir + "/" + n).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << n;
  }
  EXPECT_NE(ReadFileOrEmpty(dir + "/" + globals).find("CREATE ROLE reader"), std::string::npos);
  json last = GetJson(*node, "/__opr/dump")["last"];
  EXPECT_EQ(last["result"], "ok") << last.dump();
  EXPECT_EQ(last["files"].size(), 4u) << last.dump();

  PgrtNode fresh;
  fresh.Start();
  ASSERT_TRUE(fresh.WaitHealthy(milliseconds(60000))) << fresh.Log();
  Env client = {{"PGPASSWORD", fresh.password()}};  // the test is the operator here
  CommandOutput restore = RunCommand(
      {PgBinDir() + "/pg_restore", "--host=127.0.0.1", "--port=" + std::to_string(fresh.pg_port()),
       "--username=app", "--dbname=appdb", "--no-password", dir + "/" + appdb},
      client);
  ASSERT_EQ(restore.exit_code, 0) << restore.output;
  EXPECT_EQ(fresh.Query("SELECT count(*) || ' ' || md5(string_agg(s, ',' ORDER BY i)) FROM t"),
            node->Query("SELECT count(*) || ' ' || md5(string_agg(s, ',' ORDER BY i)) FROM t"));
}

void Backdate(const std::string& path, int days) {
  WriteFileOrDie(path, "old");
  timeval tv[2];
  tv[0].tv_sec = tv[1].tv_sec = ::time(nullptr) - days * 86400L;
  tv[0].tv_usec = tv[1].tv_usec = 0;
  ASSERT_EQ(::utimes(path.c_str(), tv), 0) << path;
}

TEST(Dump, RetentionRemovesOnlyPgrtsOwnDumpsOlderThanTheLimit) {
  TempDir dumps;
  const std::string dir = dumps.Sub("dumps");
  std::filesystem::create_directory(dir);
  Backdate(dir + "/appdb-20200101T000000Z.dump", 10);   // pgrt's, old: removed
  Backdate(dir + "/globals-20200101T000000Z.sql", 10);  // pgrt's, old: removed
  Backdate(dir + "/appdb-20200102T000000Z.dump", 2);    // pgrt's, recent: kept
  Backdate(dir + "/notes.txt", 30);                     // someone else's: kept
  Backdate(dir + "/appdb-manual.dump", 30);             // someone else's: kept
  // A directory holding files is used as it is, never chowned: the operator gives it to the
  // account that writes the dumps.
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    ASSERT_NE(pw, nullptr) << "no postgres account";
    ASSERT_EQ(::chown(dir.c_str(), pw->pw_uid, pw->pw_gid), 0);
  }

  auto node = DumpingNode(dir, {{"PGRT_DUMP_RETENTION_DAYS", "7"}});
  node->Start();
  ASSERT_TRUE(node->WaitHealthy(milliseconds(60000))) << node->Log();
  CommandOutput out = Cli(*node, {"dump"});
  ASSERT_EQ(out.exit_code, 0) << out.output << node->Log();
  EXPECT_NE(out.output.find("\"pruned\": 2"), std::string::npos) << out.output;

  std::vector<std::string> names = Names(dir);
  for (const char* gone : {"appdb-20200101T000000Z.dump", "globals-20200101T000000Z.sql"})
    EXPECT_EQ(std::count(names.begin(), names.end(), gone), 0) << gone;
  for (const char* kept : {"appdb-20200102T000000Z.dump", "notes.txt", "appdb-manual.dump"})
    EXPECT_EQ(std::count(names.begin(), names.end(), kept), 1) << kept;
  EXPECT_EQ(names.size(), 3u + 3u) << ::testing::PrintToString(names);  // + globals, 2 dbs
}

}  // namespace
}  // namespace pgrt::testing::backup
