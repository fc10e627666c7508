// PgBouncer in front of a real node: pgbench runs through it, and its pool size bounds
// what postgres sees.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pooler_helpers.h"

namespace pgrt::testing::pool {
namespace {

CommandOutput Pgbench(PgrtNode& node, std::vector<std::string> args) {
  args.push_back(node.env().at("POSTGRES_DB"));
  return PoolerClient(node, "pgbench", args);
}

}  // namespace

TEST(Pooler, PgbenchInitializesAndRunsThroughThePoolerInTransactionMode) {
  PgrtNode node(PoolerEnv());
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_TRUE(WaitPoolerAnswers(node)) << node.Log();

  CommandOutput init = Pgbench(node, {"-i", "-s", "1", "-q"});
  ASSERT_EQ(init.exit_code, 0) << init.output << node.Log();
  CommandOutput run = Pgbench(node, {"-c", "4", "-j", "2", "-t", "50", "-n"});
  ASSERT_EQ(run.exit_code, 0) << run.output << node.Log();
  EXPECT_NE(run.output.find("number of transactions actually processed: 200/200"),
            std::string::npos)
      << run.output;
  // The rows are postgres's, not PgBouncer's idea of them.
  EXPECT_EQ(node.Query("SELECT count(*) FROM pgbench_branches"), "1");
  EXPECT_EQ(node.Query("SELECT count(*) FROM pgbench_history"), "200");
}

TEST(Pooler, PoolSizeBoundsTheServerConnectionsPostgresSees) {
  PgrtNode node(PoolerEnv({{"PGBOUNCER_DEFAULT_POOL_SIZE", "2"}}));
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  std::string error;
  node.Query("CREATE ROLE pooled LOGIN PASSWORD 'pooled-pw'", &error);
  ASSERT_EQ(error, "");
  ASSERT_TRUE(WaitPoolerAnswers(node)) << node.Log();

  std::atomic<int> ok{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      auto c = PgConn::Connect(PoolerConn(node, "pooled", "pooled-pw"));
      if (!c.ok()) return;
      bool all = true;
      for (int q = 0; q < 3; ++q) all = all && c->Exec("SELECT pg_sleep(0.1)").ok();
      if (all) ++ok;
    });
  }
  // Sample what postgres sees while the eight clients queue for two server connections.
  int max_seen = 0;
  std::thread watcher([&] {
    while (!done) {
      std::string n = node.Query("SELECT count(*) FROM pg_stat_activity WHERE usename = 'pooled'");
      if (!n.empty()) max_seen = std::max(max_seen, std::stoi(n));
      std::this_thread::sleep_for(milliseconds(20));
    }
  });
  for (auto& t : clients) t.join();
  done = true;
  watcher.join();
  EXPECT_EQ(ok.load(), 8) << node.Log();
  EXPECT_GE(max_seen, 1);
  EXPECT_LE(max_seen, 2);
}

}  // namespace pgrt::testing::pool
