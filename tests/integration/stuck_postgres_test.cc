// A stopped (SIGSTOP) postmaster or backend must not freeze pgrt: nothing on its loop waits
// for postgres, the probes tell the truth (a postmaster that accepts no client is not
// healthy, whatever old backends still answer), and SIGTERM still stops everything.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Every process of the node's postgres (the postmaster's descendants and itself).
std::vector<pid_t> PostgresProcesses(pid_t postmaster) {
  std::vector<pid_t> out = DescendantsOf(postmaster);
  out.push_back(postmaster);
  return out;
}

// The time one GET takes; the answer in *status.
milliseconds Timed(const PgrtNode& node, const std::string& path, int* status) {
  auto start = Clock::now();
  *status = node.Get(path).status;
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

bool MetricIs(const PgrtNode& node, const std::string& line) {
  return node.Get("/metrics").body.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST(StuckPostgres, AStoppedPostmasterTurnsProbesUnhealthyWhileTheApiKeepsAnsweringQuickly) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_TRUE(WaitUntil([&] { return node.Get("/primary").status == 200; }, milliseconds(10000)));
  const pid_t postmaster = node.PostmasterPid();
  ASSERT_GT(postmaster, 0);
  ASSERT_EQ(::kill(postmaster, SIGSTOP), 0);
  // No new client can connect now: every probe says so within a few seconds.
  EXPECT_TRUE(WaitUntil([&] { return node.Get("/primary").status == 503; }, milliseconds(10000)))
      << node.Log();
  EXPECT_TRUE(
      WaitUntil([&] { return node.Get("/__opr/health").status == 503; }, milliseconds(10000)));
  EXPECT_TRUE(WaitUntil([&] { return MetricIs(node, "pg_up 0"); }, milliseconds(10000)));
  // pgrt itself is alive and answers at once.
  for (int i = 0; i < 10; ++i) {
    int status = 0;
    milliseconds took = Timed(node, "/liveness", &status);
    EXPECT_EQ(status, 200);
    // Before the loop stopped waiting on postgres, such a probe hung for seconds.
    EXPECT_LT(took, milliseconds(2000)) << "/liveness took " << took.count() << " ms";
  }
  ASSERT_EQ(::kill(postmaster, SIGCONT), 0);
  EXPECT_TRUE(WaitUntil([&] { return node.Get("/primary").status == 200; }, milliseconds(10000)))
      << node.Log();
  EXPECT_TRUE(
      WaitUntil([&] { return node.Get("/__opr/health").status == 200; }, milliseconds(10000)));
  EXPECT_TRUE(WaitUntil([&] { return MetricIs(node, "pg_up 1"); }, milliseconds(10000)));
}

TEST(StuckPostgres, SigtermWithAStoppedPostmasterExitsPromptlyAndLeavesNoPostgres) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  const pid_t postmaster = node.PostmasterPid();
  std::vector<pid_t> postgres = PostgresProcesses(postmaster);
  ASSERT_EQ(::kill(postmaster, SIGSTOP), 0);
  auto start = Clock::now();
  auto status = node.Stop(SIGTERM, milliseconds(20000));
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  ASSERT_TRUE(status.has_value()) << "pgrt did not exit\n" << node.Log();
  EXPECT_LT(took, milliseconds(5000)) << node.Log();
  EXPECT_TRUE(WaitUntil([&] { return NoneAlive(postgres); }, milliseconds(5000)));
}

TEST(StuckPostgres, SigtermWithAStoppedBackendExitsPromptlyAndLeavesNoPostgres) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  auto client = PgConn::Connect(node.Conn());
  ASSERT_TRUE(client.ok()) << client.status().message();
  const pid_t backend_pid = BackendPid(*client);
  ASSERT_GT(backend_pid, 0);
  std::vector<pid_t> postgres = PostgresProcesses(node.PostmasterPid());
  ASSERT_EQ(::kill(backend_pid, SIGSTOP), 0);
  // New clients still connect: the node is healthy.
  EXPECT_EQ(node.Get("/__opr/health").status, 200);
  auto start = Clock::now();
  auto status = node.Stop(SIGTERM, milliseconds(20000));
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  ASSERT_TRUE(status.has_value()) << "pgrt did not exit\n" << node.Log();
  EXPECT_EQ(ExitCode(status), 0) << node.Log();
  EXPECT_LT(took, milliseconds(5000)) << node.Log();
  EXPECT_TRUE(WaitUntil([&] { return NoneAlive(postgres); }, milliseconds(5000)));
}

}  // namespace pgrt::testing
