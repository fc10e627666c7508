// pgrt nodes over a three-member etcd cluster (PGRT_ETCD_ENDPOINTS lists every member): etcd
// losing a member, even its raft leader and the member every node talks to first, is etcd's
// business; the pgrt leader keeps its lease and its postgres, and writes go on.
#include <signal.h>

#include <chrono>
#include <thread>

#include "integration/ha_helpers.h"

namespace pgrt::testing::ha {

TEST(HaEtcdCluster, KillingTheEtcdLeaderEveryNodeTalksToKeepsThePgrtLeaderAndItsWritesGoOn) {
  Cluster c(3, ClusterOptions{.etcd_members = 3});
  c.StartAll();
  const int leader = c.WaitSettled();
  ASSERT_GE(leader, 0) << c.Logs();
  ASSERT_EQ(c.node(leader).Query("CREATE TABLE t (v int); SELECT 'ok'"), "ok");
  // Member 0 comes first in every node's endpoint list: make it the raft leader too, so its
  // death costs both an etcd election and every node's connection.
  EtcdCluster& etcd = c.etcd();
  ASSERT_TRUE(etcd.MoveLeaderTo(0)) << etcd.Logs();
  const pid_t postmaster = c.node(leader).PostmasterPid();
  const size_t history = GetJson(c.node(leader).api_port(), "/history").value_or(json()).size();

  Writer writer(c.node(leader));
  ASSERT_TRUE(WaitUntil([&] { return writer.acknowledged() > 50; }, milliseconds(10000)));
  const int before = writer.acknowledged();
  const auto killed = Clock::now();
  etcd.Kill(0);
  // Three leases long: the leader's keepalives go to the surviving members.
  int other_primaries = 0, samples = 0;
  while (Clock::now() - killed < std::chrono::seconds(3 * kTtl)) {
    ++samples;
    if (c.Primary() != leader) ++other_primaries;
    std::this_thread::sleep_for(milliseconds(100));
  }
  const int during = writer.acknowledged() - before;
  const auto since_last_ack = Clock::now() - writer.last_ack();
  writer.Stop();
  ::testing::Test::RecordProperty("writes_while_etcd_elected", during);

  EXPECT_EQ(other_primaries, 0) << "of " << samples << " samples, /primary was not the leader\n"
                                << c.Logs();
  EXPECT_GT(during, 100) << "writes go on while etcd replaces its leader";
  EXPECT_LT(since_last_ack, std::chrono::seconds(1)) << "the writer was still acknowledged";
  EXPECT_EQ(c.node(leader).PostmasterPid(), postmaster) << "the leader's postgres never stopped";
  EXPECT_EQ(GetJson(c.node(leader).api_port(), "/history").value_or(json()).size(), history)
      << "no failover was recorded";
  EXPECT_GE(etcd.LeaderIndex(), 1) << etcd.Logs();

  // The killed member rejoins; the cluster still answers through every member.
  ASSERT_NO_FATAL_FAILURE(etcd.Restart(0));
  ASSERT_TRUE(etcd.WaitHealthy()) << etcd.Logs();
  EXPECT_EQ(c.WaitSettled(milliseconds(30000)), leader) << c.Logs();
  EXPECT_EQ(c.node(leader).Query("INSERT INTO t VALUES (-1); SELECT 'ok'"), "ok");
}

}  // namespace pgrt::testing::ha
