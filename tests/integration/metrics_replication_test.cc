// Replication in /metrics: a replica whose replay is paused shows lag in seconds and bytes,
// and its primary shows the standby's lag and the slot's retained WAL.
#include <gtest/gtest.h>

#include <thread>

#include "pooler_helpers.h"
#include "replication_helpers.h"

namespace pgrt::testing::pool {
namespace {

bool PromtoolAccepts(const std::string& body) {
  TempDir dir;
  WriteFileOrDie(dir.Sub("metrics.txt"), body);
  return Shell("exec promtool check metrics < '" + dir.Sub("metrics.txt") + "'").exit_code == 0;
}

}  // namespace

TEST(MetricsReplication, PausedReplayShowsLagOnTheReplicaAndOnItsPrimary) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(repl::StartPair(primary, replica, "metrics_slot"));
  // A replayed transaction first, so the replica has a last-replay time to measure from.
  ASSERT_EQ(primary->Query("INSERT INTO t VALUES ('one'); SELECT 'ok'"), "ok");
  ASSERT_TRUE(repl::WaitForValue(*replica, "SELECT count(*) FROM t", "1")) << replica->Log();
  std::string body = Metrics(*replica);
  EXPECT_EQ(Value(body, "pg_replication_is_replica"), 1.0) << body;
  EXPECT_EQ(Value(body, "pg_replication_lag_bytes"), 0.0) << body;

  std::string error;
  replica->Query("SELECT pg_wal_replay_pause()", &error);
  ASSERT_EQ(error, "");
  std::this_thread::sleep_for(milliseconds(1100));
  ASSERT_EQ(primary->Query("INSERT INTO t SELECT 'x' FROM generate_series(1, 1000); SELECT 'ok'"),
            "ok");

  ASSERT_TRUE(WaitUntil(
      [&] {
        body = Metrics(*replica);
        return Value(body, "pg_replication_lag_bytes").value_or(0) > 0;
      },
      milliseconds(10000), milliseconds(100)))
      << body;
  EXPECT_GE(Value(body, "pg_replication_lag").value_or(0), 1.0) << body;
  EXPECT_TRUE(PromtoolAccepts(body)) << body;

  std::string on_primary;
  ASSERT_TRUE(WaitUntil(
      [&] {
        on_primary = Metrics(*primary);
        for (const Sample& s : ParseMetrics(on_primary))
          if (s.name == "pg_stat_replication_pg_wal_lsn_diff" && s.value > 0) return true;
        return false;
      },
      milliseconds(10000), milliseconds(100)))
      << on_primary;
  EXPECT_EQ(Value(on_primary, "pg_replication_is_replica"), 0.0);
  EXPECT_TRUE(Value(on_primary, "pg_stat_replication_replay_lag_seconds")) << on_primary;
  EXPECT_EQ(Value(on_primary, "pg_replication_slots_active", {{"slot_name", "metrics_slot"}}), 1.0)
      << on_primary;
  EXPECT_TRUE(
      Value(on_primary, "pg_replication_slots_pg_wal_lsn_diff", {{"slot_name", "metrics_slot"}}));
  EXPECT_TRUE(PromtoolAccepts(on_primary)) << on_primary;

  replica->Query("SELECT pg_wal_replay_resume()", &error);
  ASSERT_EQ(error, "");
  EXPECT_TRUE(WaitUntil([&] { return Value(Metrics(*replica), "pg_replication_lag_bytes") == 0.0; },
                        milliseconds(10000), milliseconds(100)));
}

}  // namespace pgrt::testing::pool
