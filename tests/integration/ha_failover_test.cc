// Automatic failover on etcd (PGRT_HA=etcd): identical nodes elect one leader, the others
// clone and follow it; a killed leader is replaced within the lease and rejoins through
// pg_rewind as a replica; a leader stopped with SIGTERM hands over at once.
#include <signal.h>

#include <chrono>

#include "integration/ha_helpers.h"

namespace pgrt::testing::ha {
namespace {

json ClusterView(PgrtNode& n) { return GetJson(n.api_port(), "/cluster").value_or(json()); }

// The cluster after a first boot: one leader with table t holding `rows` rows everywhere.
void Boot(Cluster& c, int* leader) {
  c.StartAll();
  *leader = c.WaitSettled();
  ASSERT_GE(*leader, 0) << c.Logs();
  ASSERT_EQ(c.node(*leader).Query("CREATE TABLE t (v int); INSERT INTO t VALUES (1); SELECT 'ok'"),
            "ok");
  for (int i = 0; i < c.size(); ++i)
    ASSERT_TRUE(WaitForValue(c.node(i), "SELECT count(*) FROM t", "1", milliseconds(30000)))
        << "n" << i + 1 << "\n"
        << c.Logs();
}

}  // namespace

TEST(HaFailover, IdenticalNodesElectOneLeaderAndTheOthersCloneAndFollowIt) {
  Cluster c(3);
  int leader = -1;
  ASSERT_NO_FATAL_FAILURE(Boot(c, &leader));
  json view = ClusterView(c.node(leader));
  ASSERT_EQ(view["members"].size(), 3u) << view.dump();
  EXPECT_EQ(view["leader"], "n" + std::to_string(leader + 1)) << view.dump();
  int leaders = 0;
  for (const json& m : view["members"]) leaders += m["role"] == "leader";
  EXPECT_EQ(leaders, 1) << view.dump();
  // Every node was made from the leader's cluster: one system identifier.
  const std::string sysid =
      c.node(leader).Query("SELECT system_identifier FROM pg_control_system()");
  for (int i = 0; i < c.size(); ++i)
    EXPECT_EQ(c.node(i).Query("SELECT system_identifier FROM pg_control_system()"), sysid);
  // A replica refuses writes; /primary is 503 on it.
  for (int i = 0; i < c.size(); ++i) {
    if (i == leader) continue;
    std::string error;
    c.node(i).Query("INSERT INTO t VALUES (2)", &error);
    EXPECT_NE(error.find("read-only"), std::string::npos) << error;
    EXPECT_EQ(c.node(i).Get("/primary").status, 503);
  }
}

namespace {

// A kill -9 of the leader's pgrt and postgres: another node leads within the lease, the third
// follows it, and the old leader rejoins through pg_rewind holding exactly the new leader's data.
void KilledLeaderIsReplacedAndRejoinsByRewind(Cluster& c) {
  int old = -1;
  ASSERT_NO_FATAL_FAILURE(Boot(c, &old));
  PgrtNode& dead = c.node(old);
  // Writes on the old leader that the others may or may not have received when it dies.
  dead.Query("INSERT INTO t SELECT g FROM generate_series(2, 100) g");
  const pid_t postmaster = dead.PostmasterPid();
  std::vector<pid_t> survivors_pgrt;
  for (int i = 0; i < c.size(); ++i)
    if (i != old) survivors_pgrt.push_back(c.node(i).pid());

  const auto killed = Clock::now();
  ASSERT_EQ(::kill(dead.pid(), SIGKILL), 0);
  ASSERT_EQ(::kill(postmaster, SIGKILL), 0);
  dead.WaitExit(milliseconds(5000));
  int fresh = -1;
  ASSERT_TRUE(WaitUntil(
      [&] {
        fresh = c.Primary();
        return fresh >= 0 && fresh != old;
      },
      milliseconds((kTtl + 10) * 1000), milliseconds(50)))
      << c.Logs();
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - killed);
  ::testing::Test::RecordProperty("failover_ms", static_cast<int>(took.count()));
  EXPECT_LT(took.count(), (kTtl + 5) * 1000) << "from kill -9 to a new /primary";

  // The new leader takes writes; the third node follows it without a restart of pgrt.
  PgrtNode& leader = c.node(fresh);
  ASSERT_EQ(leader.Query("INSERT INTO t VALUES (1000); SELECT 'ok'"), "ok") << leader.Log();
  const std::string expected = leader.Query("SELECT count(*) || ':' || sum(v) FROM t");
  for (int i = 0; i < c.size(); ++i) {
    if (i == old || i == fresh) continue;
    EXPECT_TRUE(WaitForValue(c.node(i), "SELECT count(*) || ':' || sum(v) FROM t", expected,
                             milliseconds(30000)))
        << c.Logs();
  }
  for (pid_t p : survivors_pgrt) EXPECT_TRUE(ProcessAlive(p));

  // The old leader comes back as a replica of the new one, through pg_rewind, and holds
  // exactly the new leader's data.
  const size_t mark = dead.LogSize();
  dead.Start();
  ASSERT_TRUE(WaitForStatus(dead, "/replica", 200, milliseconds(60000))) << dead.LogSince(mark);
  EXPECT_EQ(dead.Get("/primary").status, 503);
  EXPECT_TRUE(
      WaitForValue(dead, "SELECT count(*) || ':' || sum(v) FROM t", expected, milliseconds(30000)))
      << dead.LogSince(mark);
  EXPECT_NE(dead.LogSince(mark).find("pg_rewind"), std::string::npos) << dead.LogSince(mark);
  leader.Query("INSERT INTO t VALUES (2000)");
  const std::string after = leader.Query("SELECT count(*) || ':' || sum(v) FROM t");
  EXPECT_TRUE(
      WaitForValue(dead, "SELECT count(*) || ':' || sum(v) FROM t", after, milliseconds(30000)))
      << dead.LogSince(mark);
  EXPECT_EQ(c.Primary(), fresh);
}

}  // namespace

TEST(HaFailover, AKilledLeaderIsReplacedWithinTheLeaseAndRejoinsByRewind) {
  Cluster c(3);
  KilledLeaderIsReplacedAndRejoinsByRewind(c);
}

TEST(HaFailover, OverAThreeMemberEtcdAKilledLeaderIsReplacedWithinTheLeaseAndRejoinsByRewind) {
  Cluster c(3, ClusterOptions{.etcd_members = 3});
  KilledLeaderIsReplacedAndRejoinsByRewind(c);
}

TEST(HaFailover, ALeaderStoppedWithSigtermHandsOverBeforeItsLeaseEnds) {
  Cluster c(3);
  int old = -1;
  ASSERT_NO_FATAL_FAILURE(Boot(c, &old));
  const auto stopped = Clock::now();
  ASSERT_EQ(::kill(c.node(old).pid(), SIGTERM), 0);
  int fresh = -1;
  ASSERT_TRUE(WaitUntil(
      [&] {
        fresh = c.Primary();
        return fresh >= 0 && fresh != old;
      },
      milliseconds((kTtl + 10) * 1000), milliseconds(20)))
      << c.Logs();
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - stopped);
  RecordProperty("handover_ms", static_cast<int>(took.count()));
  EXPECT_LT(took.count(), kTtl * 1000) << "a resigned leader is replaced before its lease ends";
  EXPECT_EQ(ExitCode(c.node(old).WaitExit(milliseconds(10000))), 0) << c.node(old).Log();
  EXPECT_EQ(c.node(fresh).Query("INSERT INTO t VALUES (7); SELECT count(*) FROM t"), "2");
}

}  // namespace pgrt::testing::ha
