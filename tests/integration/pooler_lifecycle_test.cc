// PgBouncer's life under pgrt: it comes back after a crash, reloads on SIGHUP, stops before
// postgres, and authenticates against postgres without a password anywhere on disk.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "pooler_helpers.h"

namespace pgrt::testing::pool {

TEST(Pooler, AKilledPgbouncerIsRestartedAndAnswersAgain) {
  PgrtNode node(PoolerEnv());
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_TRUE(WaitPoolerAnswers(node)) << node.Log();
  pid_t before = PgbouncerPid(node);
  ASSERT_GT(before, 0) << node.Log();
  pid_t postmaster = node.PostmasterPid();

  ASSERT_EQ(::kill(before, SIGKILL), 0);
  ASSERT_TRUE(WaitUntil([&] { return PgbouncerPid(node) != before && PgbouncerPid(node) != 0; },
                        milliseconds(10000)))
      << node.Log();
  EXPECT_TRUE(WaitPoolerAnswers(node, milliseconds(10000))) << node.Log();
  // postgres was not touched.
  EXPECT_EQ(node.PostmasterPid(), postmaster);
  EXPECT_EQ(node.Get("/__opr/health").status, 200);
}

TEST(Pooler, ChecksPasswordsAgainstPostgresAndLetsNoInternalAccountIn) {
  PgrtNode node(PoolerEnv());
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_TRUE(WaitPoolerAnswers(node)) << node.Log();

  auto good = PgConn::Connect(PoolerConn(node));
  ASSERT_TRUE(good.ok()) << good.status().message();
  auto who = good->Exec("SELECT current_user");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->Get(0, 0), node.env().at("POSTGRES_USER"));

  EXPECT_FALSE(PgConn::Connect(PoolerConn(node, "", "not-the-password")).ok());
  EXPECT_FALSE(PgConn::Connect(PoolerConn(node, "nobody", "x")).ok());
  // A password changed in postgres counts at once (auth_query, no copy in PgBouncer).
  std::string error;
  node.Query("CREATE ROLE changing LOGIN PASSWORD 'first-pw'", &error);
  ASSERT_EQ(error, "");
  EXPECT_TRUE(PgConn::Connect(PoolerConn(node, "changing", "first-pw")).ok());
  node.Query("ALTER ROLE changing PASSWORD 'second-pw'", &error);
  ASSERT_EQ(error, "");
  EXPECT_FALSE(PgConn::Connect(PoolerConn(node, "changing", "first-pw")).ok());
  EXPECT_TRUE(PgConn::Connect(PoolerConn(node, "changing", "second-pw")).ok());

  // The internal accounts: no way in over TCP, neither through PgBouncer nor directly.
  for (const char* user : {"pgrt_pgbouncer", "pgrt_stats"}) {
    for (const char* db : {"appdb", "pgbouncer"}) {
      ConnParams p = PoolerConn(node, user, "guess");
      p["dbname"] = db;
      EXPECT_FALSE(PgConn::Connect(p).ok()) << user << "@" << db;
    }
    ConnParams direct = node.Conn();
    direct["user"] = user;
    direct["password"] = "guess";
    EXPECT_FALSE(PgConn::Connect(direct).ok()) << user;
  }
  // (Other users asking for the console are not tried: PgBouncer 1.18 keeps them waiting
  // until client_login_timeout instead of refusing at once; they never get in either way.)
}

TEST(Pooler, KeepsPasswordsOffDiskArgvAndEnvironment) {
  PgrtNode node(PoolerEnv());
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_TRUE(WaitPoolerAnswers(node)) << node.Log();
  pid_t pid = PgbouncerPid(node);
  ASSERT_GT(pid, 0);

  const std::string password = node.password();
  std::string dir =
      node.env().at("PGRT_SOCKET_DIR") + "/pgrt-pgbouncer-" + node.env().at("PGBOUNCER_PORT");
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  EXPECT_EQ(std::filesystem::status(dir).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string text = ReadFileOrEmpty(e.path());
    EXPECT_EQ(text.find(password), std::string::npos) << e.path();
    ++files;
  }
  EXPECT_EQ(files, 3);
  std::string auth_file = ReadFileOrEmpty(dir + "/userlist.txt");
  EXPECT_EQ(auth_file.rfind("\"pgrt_stats\" \"SCRAM-SHA-256$4096:", 0), 0u) << auth_file;
  // Nothing pooler-related in PGDATA (a base backup must not copy it).
  EXPECT_FALSE(std::filesystem::exists(node.pgdata() + "/pgbouncer.ini"));

  for (const char* proc_file : {"cmdline", "environ"}) {
    std::string text = ReadProcFile(pid, proc_file);
    EXPECT_FALSE(text.empty()) << proc_file;
    EXPECT_EQ(text.find(password), std::string::npos) << proc_file;
    EXPECT_EQ(text.find("PASSWORD"), std::string::npos) << proc_file;
  }
  if (::geteuid() == 0) {
    EXPECT_NE(ProcessUid(pid), 0) << "pgbouncer must not run as root";
  }
}

TEST(Pooler, ReloadsOnSighupAndStopsBeforePostgres) {
  PgrtNode node(PoolerEnv());
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_TRUE(WaitPoolerAnswers(node)) << node.Log();
  pid_t pid = PgbouncerPid(node);

  size_t mark = node.LogSize();
  ASSERT_EQ(::kill(node.pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitUntil([&] { return node.LogSince(mark).find("SIGHUP") != std::string::npos; },
                        milliseconds(5000)))
      << node.LogSince(mark);
  EXPECT_EQ(PgbouncerPid(node), pid);
  EXPECT_TRUE(WaitPoolerAnswers(node, milliseconds(5000)));

  // An idle client (transaction mode: it holds no server connection) does not hold up the
  // shutdown; PgBouncer is not killed after its stop timeout.
  auto idle = PgConn::Connect(PoolerConn(node));
  ASSERT_TRUE(idle.ok() && idle->Exec("SELECT 1").ok());
  mark = node.LogSize();
  ASSERT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
  std::string log = node.LogSince(mark);
  EXPECT_EQ(log.find("did not stop in time"), std::string::npos) << log;
  size_t pooler_stopped = log.find("pgbouncer stopped");
  size_t postgres_stopped = log.find("postgres stopped");
  ASSERT_NE(pooler_stopped, std::string::npos) << log;
  ASSERT_NE(postgres_stopped, std::string::npos) << log;
  EXPECT_LT(pooler_stopped, postgres_stopped) << log;
  EXPECT_FALSE(ProcessAlive(pid));
}

}  // namespace pgrt::testing::pool
