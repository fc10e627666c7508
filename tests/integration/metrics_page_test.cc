// GET /metrics on real nodes: promtool accepts the page, values move with the database,
// and a postgres that is down is reported as pg_up 0, not as an error.
#include <gtest/gtest.h>

#include "pooler_helpers.h"

namespace pgrt::testing::pool {
namespace {

// promtool's verdict on `body` (exit code 0: valid, and no lint problems).
CommandOutput PromtoolCheck(const std::string& body) {
  TempDir dir;
  WriteFileOrDie(dir.Sub("metrics.txt"), body);
  return Shell("exec promtool check metrics < '" + dir.Sub("metrics.txt") + "'");
}

}  // namespace

TEST(Metrics, PromtoolAcceptsThePageWithPostgresPgbouncerAndPgStatStatements) {
  PgrtNode node(PoolerEnv({{"POSTGRES_EXTENSIONS", "pg_stat_statements"}}));
  node.Start({"run", "--", "-c", "shared_preload_libraries=pg_stat_statements"});
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_TRUE(WaitPoolerAnswers(node)) << node.Log();
  auto pooled = PgConn::Connect(PoolerConn(node));  // a pool shows up in SHOW POOLS
  ASSERT_TRUE(pooled.ok());
  ASSERT_TRUE(pooled->Exec("SELECT 1").ok());

  HttpResponse r = node.Get("/metrics");
  ASSERT_EQ(r.status, 200);
  CommandOutput check = PromtoolCheck(r.body);
  EXPECT_EQ(check.exit_code, 0) << check.output << "\n" << r.body;

  const std::string db = node.env().at("POSTGRES_DB");
  EXPECT_EQ(Value(r.body, "pg_up"), 1.0) << r.body;
  EXPECT_EQ(Value(r.body, "pgrt_up"), 1.0);
  EXPECT_EQ(Value(r.body, "pgrt_build_info", {{"version", PGRT_VERSION}}), 1.0);
  EXPECT_EQ(Value(r.body, "pgrt_postgres_restarts_total"), 0.0);
  EXPECT_EQ(Value(r.body, "pg_settings_max_connections"), 100.0);
  EXPECT_EQ(Value(r.body, "pg_replication_is_replica"), 0.0);
  EXPECT_GT(Value(r.body, "pg_wal_lsn_bytes").value_or(0), 0);
  EXPECT_GT(Value(r.body, "pg_database_size_bytes", {{"datname", db}}).value_or(0), 0);
  EXPECT_TRUE(Value(r.body, "pg_stat_database_xact_commit", {{"datname", db}}));
  EXPECT_TRUE(Value(r.body, "pg_stat_archiver_failed_count"));
  EXPECT_GT(Value(r.body, "pg_stat_statements_calls_total", {{"datname", db}}).value_or(0), 0)
      << r.body;
  EXPECT_EQ(Value(r.body, "pgbouncer_up"), 1.0) << node.Log();
  EXPECT_TRUE(Value(r.body, "pgbouncer_pools_server_idle_connections",
                    {{"database", db}, {"user", node.env().at("POSTGRES_USER")}}))
      << r.body;
  // No backups configured: no backup age (the alert refers to it all the same).
  EXPECT_FALSE(Value(r.body, "pgrt_last_backup_age_seconds"));
  EXPECT_EQ(r.body.find(node.password()), std::string::npos);
}

TEST(Metrics, ValuesMoveWithCommitsAndConnections) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  const std::string db = node.env().at("POSTGRES_DB");
  auto idle = [&] {
    return Value(Metrics(node), "pg_stat_activity_count", {{"datname", db}, {"state", "idle"}})
        .value_or(-1);
  };
  auto commits = [&] {
    return Value(Metrics(node), "pg_stat_database_xact_commit", {{"datname", db}}).value_or(-1);
  };

  double commits_before = commits();
  ASSERT_GE(commits_before, 0);
  auto conn = PgConn::Connect(node.Conn());
  ASSERT_TRUE(conn.ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(conn->Exec("SELECT 1").ok());
  // Statistics reach the shared counters when a backend is idle (at most ~1 s later).
  EXPECT_TRUE(WaitUntil([&] { return commits() >= commits_before + 20; }, milliseconds(5000),
                        milliseconds(100)));

  double idle_before = idle();
  ASSERT_GE(idle_before, 0);
  {
    auto extra = PgConn::Connect(node.Conn());
    ASSERT_TRUE(extra.ok());
    EXPECT_TRUE(WaitUntil([&] { return idle() >= idle_before + 1; }, milliseconds(5000),
                          milliseconds(100)));
  }  // disconnects
  EXPECT_TRUE(
      WaitUntil([&] { return idle() <= idle_before; }, milliseconds(5000), milliseconds(100)));
}

TEST(Metrics, APostgresThatCannotStartIsPgUpZeroWithStatus200) {
  PgrtNode node(Env{{"PGRT_RESTART_MAX", "1000"}});
  node.Start({"run", "--", "-c", "pgrt_no_such_setting=1"});
  // The API is up from the start; postgres keeps failing and being restarted.
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::string body = node.Get("/metrics").body;
        return Value(body, "pgrt_postgres_restarts_total").value_or(0) >= 1;
      },
      milliseconds(30000), milliseconds(100)))
      << node.Log();
  HttpResponse r = node.Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Value(r.body, "pg_up"), 0.0) << r.body;
  EXPECT_EQ(Value(r.body, "pgrt_up"), 1.0);
  EXPECT_FALSE(Value(r.body, "pg_stat_database_xact_commit", {{"datname", "postgres"}}));
  EXPECT_EQ(PromtoolCheck(r.body).exit_code, 0) << r.body;
}

TEST(Metrics, AlertRulesPassPromtoolsCheckAndTheirUnitTests) {
  const std::string dir = std::string(PGRT_SOURCE_DIR) + "/deploy/prometheus";
  CommandOutput check = Shell("exec promtool check rules '" + dir + "/alerts.yml'");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  CommandOutput test = Shell("cd '" + dir + "' && exec promtool test rules alerts_test.yml");
  EXPECT_EQ(test.exit_code, 0) << test.output;
}

}  // namespace pgrt::testing::pool
