// POSTGRES_INITDB_SCRIPTS: *.sql, *.sql.gz and *.sh run once, in name order, at first init;
// a failing script leaves no cluster behind that a later start would mistake for finished.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

using std::chrono::milliseconds;

std::string ScriptsDir(const PgrtNode& node) {
  std::string dir = node.dir() + "/initdb.d";
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  return dir;
}

void WriteGzip(const std::string& path, const std::string& content) {
  WriteFileOrDie(path + ".plain", content);
  auto gz = RunCommand({"/bin/gzip", "-n", path + ".plain"});
  ASSERT_EQ(gz.exit_code, 0) << gz.output;
  std::filesystem::rename(path + ".plain.gz", path);
}

}  // namespace

TEST(InitScripts, RunSqlGzipAndShellScriptsInNameOrderExactlyOnce) {
  PgrtNode node;
  const std::string dir = ScriptsDir(node);
  WriteFileOrDie(dir + "/01-schema.sql",
                 "CREATE TABLE init_log(n serial PRIMARY KEY, source text NOT NULL);\n"
                 "INSERT INTO init_log(source) VALUES ('sql');\n");
  ASSERT_NO_FATAL_FAILURE(
      WriteGzip(dir + "/02-data.sql.gz", "INSERT INTO init_log(source) VALUES ('gz');\n"));
  WriteFileOrDie(dir + "/03-shell.sh",
                 "#!/bin/sh\nset -e\n"
                 "psql -v ON_ERROR_STOP=1 -c \"INSERT INTO init_log(source) VALUES ('sh')\"\n",
                 0755);
  WriteFileOrDie(dir + "/04-notes.txt", "not a script\n");

  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(node.Query("SELECT string_agg(source, ',' ORDER BY n) FROM init_log"), "sql,gz,sh");
  EXPECT_NE(node.Log().find("04-notes.txt"), std::string::npos) << "skipped files are logged";
  ASSERT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();

  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(node.Query("SELECT count(*) FROM init_log"), "3");
}

TEST(InitScripts, ScriptsSeeNoPasswordInTheirEnvironment) {
  const std::string password = "S3cr3t-Pa55-Zq9";
  PgrtNode node(Env{{"POSTGRES_PASSWORD", password}});
  const std::string dir = ScriptsDir(node);
  // PGDATA is the cluster being initialized, owned by the account scripts run as.
  WriteFileOrDie(dir + "/10-env.sh", "#!/bin/sh\nenv > \"$PGDATA/init-env.txt\"\n", 0755);

  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  std::string env = ReadFileOrEmpty(node.pgdata() + "/init-env.txt");
  ASSERT_NE(env.find("PGHOST="), std::string::npos) << env;
  EXPECT_EQ(env.find(password), std::string::npos) << env;
  EXPECT_EQ(env.find("POSTGRES_PASSWORD"), std::string::npos) << env;
  EXPECT_EQ(env.find("PGPASSWORD"), std::string::npos) << env;
}

TEST(InitScripts, AFailingScriptStopsTheStartLeavesNoClusterAndAFixedScriptInitializesCleanly) {
  PgrtNode node;
  const std::string dir = ScriptsDir(node);
  WriteFileOrDie(dir + "/01-ok.sql",
                 "CREATE TABLE init_runs(source text);\n"
                 "INSERT INTO init_runs VALUES ('01-ok');\n");
  WriteFileOrDie(dir + "/02-broken.sql", "SELECT * FROM no_such_table;\n");

  node.Start();
  auto exited = node.WaitExit(milliseconds(60000));
  ASSERT_TRUE(exited.has_value()) << node.Log();
  EXPECT_EQ(ExitCode(exited), 1) << node.Log();
  EXPECT_NE(node.Log().find("02-broken.sql"), std::string::npos) << node.Log();
  // The temporary server was shut down, not killed (a killed one leaves /dev/shm segments).
  EXPECT_NE(node.Log().find("database system is shut down"), std::string::npos) << node.Log();
  EXPECT_FALSE(std::filesystem::exists(node.pgdata() + "/PG_VERSION"));
  EXPECT_FALSE(std::filesystem::exists(node.pgdata() + "/global"));

  WriteFileOrDie(dir + "/02-broken.sql", "INSERT INTO init_runs VALUES ('02-fixed');\n");
  size_t mark = node.LogSize();
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.LogSince(mark);
  EXPECT_EQ(node.Query("SELECT string_agg(source, ',' ORDER BY source) FROM init_runs"),
            "01-ok,02-fixed");
  EXPECT_NE(node.LogSince(mark).find("initializing a new cluster"), std::string::npos);
}

TEST(InitScripts, AFailingShellScriptIsNamedWithItsExitCode) {
  PgrtNode node;
  const std::string dir = ScriptsDir(node);
  WriteFileOrDie(dir + "/50-fails.sh", "#!/bin/sh\necho 'about to fail' >&2\nexit 3\n", 0755);

  node.Start();
  auto exited = node.WaitExit(milliseconds(60000));
  ASSERT_TRUE(exited.has_value()) << node.Log();
  EXPECT_EQ(ExitCode(exited), 1) << node.Log();
  std::string log = node.Log();
  EXPECT_NE(log.find("50-fails.sh"), std::string::npos) << log;
  EXPECT_NE(log.find("exited with code 3"), std::string::npos) << log;
  EXPECT_NE(log.find("about to fail"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(node.pgdata() + "/PG_VERSION"));
}

}  // namespace pgrt::testing
