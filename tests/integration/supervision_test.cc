// Supervision of postgres: crash recovery, crash loops, the stop signals, stale lock files.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

using std::chrono::milliseconds;

// Processes under pgrt that are dead but not reaped.
std::vector<pid_t> ZombieChildren(pid_t parent) {
  std::vector<pid_t> out;
  for (const ProcStat& p : AllProcesses())
    if (p.ppid == parent && p.state == 'Z') out.push_back(p.pid);
  return out;
}

// A realistic postmaster.pid naming `pid`, as a crashed or killed postmaster leaves it.
void WriteLockFile(const PgrtNode& node, pid_t pid) {
  WriteFileOrDie(node.pgdata() + "/postmaster.pid",
                 std::to_string(pid) + "\n" + node.pgdata() + "\n1700000000\n" +
                     std::to_string(node.pg_port()) + "\n" + node.dir() +
                     "/sock\n127.0.0.1\n  1234567     98304\nready   \n",
                 0600);
}

// Starts a node, stops it, and returns with the node stopped on an initialized PGDATA.
void InitializeAndStop(PgrtNode& node) {
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
}

}  // namespace

TEST(Supervision, RestartsAKilledPostmasterAndLeavesNoOrphansOrZombies) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  auto client = PgConn::Connect(node.Conn());
  ASSERT_TRUE(client.ok()) << client.status().message();
  const pid_t backend_pid = BackendPid(*client);
  ASSERT_GT(backend_pid, 0);
  // A backend busy in a long query does not notice the postmaster's death by itself and
  // keeps the old shared memory attached, which blocks a new postmaster.
  auto busy = PgConn::Connect(node.Conn());
  ASSERT_TRUE(busy.ok()) << busy.status().message();
  // The timeout bounds the query should this test fail and leave the backend behind.
  auto busy_backend = busy->Exec("SET statement_timeout = '30s'; SELECT pg_backend_pid()");
  ASSERT_TRUE(busy_backend.ok());
  const pid_t busy_pid = std::stoi(busy_backend->Get(0, 0));
  ASSERT_EQ(PQsendQuery(busy->raw(), "SELECT count(*) FROM generate_series(1, 10000000000)"), 1);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return node.Query("SELECT state FROM pg_stat_activity WHERE pid = " +
                          std::to_string(busy_pid)) == "active";
      },
      milliseconds(5000)));
  const pid_t postmaster = node.PostmasterPid();
  ASSERT_GT(postmaster, 0);
  std::vector<pid_t> old_processes = DescendantsOf(postmaster);
  ASSERT_FALSE(old_processes.empty());

  ASSERT_EQ(::kill(postmaster, SIGKILL), 0);
  ASSERT_TRUE(WaitUntil(
      [&] { return node.PostmasterPid() != postmaster && node.Get("/__opr/health").status == 200; },
      milliseconds(20000), milliseconds(20)))
      << node.Log();
  EXPECT_TRUE(node.running());
  EXPECT_TRUE(ProcessAlive(node.PostmasterPid()));

  // The status renders the monitor's observation, made right after readiness.
  nlohmann::json status;
  EXPECT_TRUE(WaitUntil(
      [&] {
        status = nlohmann::json::parse(node.Get("/__opr/status").body, nullptr, false);
        return status.is_object() && status["ready"] == true;
      },
      milliseconds(5000)))
      << status.dump();
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status["restarts"], 1) << status.dump() << "\n" << node.Log();

  // The old postmaster's backend and helpers are gone, and pgrt reaped all of them.
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(backend_pid); }, milliseconds(5000)));
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(busy_pid); }, milliseconds(5000)));
  EXPECT_TRUE(WaitUntil([&] { return NoneAlive(old_processes); }, milliseconds(5000)));
  EXPECT_TRUE(WaitUntil([&] { return ZombieChildren(node.pid()).empty(); }, milliseconds(3000)))
      << "zombies under pgrt: " << ZombieChildren(node.pid()).size();
  EXPECT_FALSE(client->Exec("SELECT 1").ok());
  EXPECT_EQ(node.Query("SELECT 1"), "1");
  EXPECT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
}

TEST(Supervision, GivesUpWithExitCode1WhenPostgresCrashLoops) {
  PgrtNode node(Env{{"PGRT_RESTART_MAX", "2"}});
  node.Start({"run", "--", "-c", "nonexistent_setting_xyz=1"});
  auto exited = node.WaitExit(milliseconds(60000));
  ASSERT_TRUE(exited.has_value()) << "pgrt kept running in a crash loop\n" << node.Log();
  EXPECT_EQ(ExitCode(exited), 1) << node.Log();
  std::string log = node.Log();
  EXPECT_NE(log.find("giving up"), std::string::npos) << log;
  EXPECT_NE(log.find("failed 3 times"), std::string::npos) << log;
  EXPECT_NE(log.find("nonexistent_setting_xyz"), std::string::npos) << log;
  EXPECT_TRUE(DescendantsOf(node.pid()).empty());
}

TEST(Supervision, SigtermStopsPostgresCleanlyAndExits0) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  const pid_t postmaster = node.PostmasterPid();
  std::vector<pid_t> processes = DescendantsOf(node.pid());
  ASSERT_TRUE(ProcessAlive(postmaster));

  EXPECT_EQ(ExitCode(node.Stop(SIGTERM, milliseconds(15000))), 0) << node.Log();
  EXPECT_NE(node.Log().find("database system is shut down"), std::string::npos) << node.Log();
  EXPECT_FALSE(ProcessAlive(postmaster));
  EXPECT_TRUE(NoneAlive(processes));
}

TEST(Supervision, SigintStopsLikeSigterm) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  const pid_t postmaster = node.PostmasterPid();
  std::vector<pid_t> processes = DescendantsOf(node.pid());

  EXPECT_EQ(ExitCode(node.Stop(SIGINT, milliseconds(15000))), 0) << node.Log();
  EXPECT_NE(node.Log().find("database system is shut down"), std::string::npos) << node.Log();
  EXPECT_FALSE(ProcessAlive(postmaster));
  EXPECT_TRUE(NoneAlive(processes));
}

TEST(Supervision, SigquitExitsPromptlyAndLeavesNoPostgres) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  const pid_t postmaster = node.PostmasterPid();
  std::vector<pid_t> processes = DescendantsOf(node.pid());
  ASSERT_FALSE(processes.empty());

  auto t0 = std::chrono::steady_clock::now();
  auto exited = node.Stop(SIGQUIT, milliseconds(5000));
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(exited.has_value()) << node.Log();
  EXPECT_TRUE(WIFEXITED(*exited)) << "pgrt itself was killed by the signal";
  EXPECT_EQ(ExitCode(exited), 0) << node.Log();
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_FALSE(ProcessAlive(postmaster));
  EXPECT_TRUE(NoneAlive(processes));
}

TEST(Supervision, SigtermDuringFirstInitializationExits0AndTheNextStartInitializesCleanly) {
  PgrtNode node;
  node.Start();
  // The API answers (503) from before initdb starts until the node is ready.
  ASSERT_TRUE(WaitUntil([&] { return node.Get("/__opr/health").status != 0 || !node.running(); },
                        milliseconds(10000), milliseconds(2)));
  auto exited = node.Stop(SIGTERM, milliseconds(10000));
  ASSERT_TRUE(exited.has_value()) << "pgrt did not stop during start-up\n" << node.Log();
  EXPECT_EQ(ExitCode(exited), 0) << node.Log();
  EXPECT_TRUE(DescendantsOf(node.pid()).empty());
  EXPECT_FALSE(std::filesystem::exists(node.pgdata() + "/PG_VERSION")) << node.Log();

  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(node.Query("SELECT current_database()"), "appdb");
}

TEST(Supervision, StartsDespiteALockFileNamingADeadPid) {
  PgrtNode node;
  ASSERT_NO_FATAL_FAILURE(InitializeAndStop(node));
  auto gone = RunCommand({"/bin/sh", "-c", "echo $$"});
  ASSERT_EQ(gone.exit_code, 0);
  const pid_t dead = std::stoi(gone.output);
  ASSERT_FALSE(ProcessAlive(dead));
  WriteLockFile(node, dead);

  node.Start();
  ASSERT_TRUE(node.WaitHealthy(milliseconds(15000))) << node.Log();
  EXPECT_NE(node.PostmasterPid(), dead);
}

TEST(Supervision, StartsDespiteALockFileNamingALiveProcessThatIsNotPostgres) {
  PgrtNode node;
  ASSERT_NO_FATAL_FAILURE(InitializeAndStop(node));
  SpawnSpec spec;
  spec.name = "sleep";
  spec.argv = {"/bin/sleep", "60"};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  auto sleeper = Child::Spawn(spec);  // killed and reaped by its destructor
  ASSERT_TRUE(sleeper.ok()) << sleeper.status().message();
  ASSERT_TRUE(ProcessAlive(sleeper->pid()));
  WriteLockFile(node, sleeper->pid());

  node.Start();
  ASSERT_TRUE(node.WaitHealthy(milliseconds(15000))) << node.Log();
  EXPECT_NE(node.PostmasterPid(), sleeper->pid());
  EXPECT_TRUE(ProcessAlive(sleeper->pid())) << "pgrt must not touch a process it does not own";
}

}  // namespace pgrt::testing
