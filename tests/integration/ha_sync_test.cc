// Synchronous mode (PGRT_SYNC_MODE=on): the leader names one synchronous standby in etcd and
// only that standby may be promoted, so a kill -9 of the leader under a back-to-back writer
// loses no acknowledged commit. (The long matrix of trials runs behind the `faults` label.)
#include <signal.h>

#include <cstdlib>

#include "integration/ha_helpers.h"

namespace pgrt::testing::ha {
namespace {

std::string SyncStandby(PgrtNode& n) {
  json view = GetJson(n.api_port(), "/cluster").value_or(json());
  return view.is_object() && view["sync_standby"].is_string()
             ? view["sync_standby"].get<std::string>()
             : "";
}

int Trials() {
  const char* n = std::getenv("PGRT_HA_SYNC_TRIALS");
  return n != nullptr ? std::max(1, std::atoi(n)) : 3;
}

// Trials() times: a kill -9 of the leader under a back-to-back writer; only the synchronous
// standby takes over, holding every acknowledged row; the old leader rejoins.
void KilledLeadersLoseNoAcknowledgedCommit(Cluster& c) {
  c.StartAll();
  int leader = c.WaitSettled();
  ASSERT_GE(leader, 0) << c.Logs();
  ASSERT_EQ(c.node(leader).Query("CREATE TABLE t (v int PRIMARY KEY); SELECT 'ok'"), "ok");
  int lost_total = 0;
  for (int trial = 0; trial < Trials(); ++trial) {
    std::string standby;
    ASSERT_TRUE(WaitUntil(
        [&] {
          standby = SyncStandby(c.node(leader));
          return !standby.empty();
        },
        milliseconds(30000), milliseconds(100)))
        << c.Logs();
    const int sync = std::stoi(standby.substr(1)) - 1;
    ASSERT_NE(sync, leader);
    EXPECT_TRUE(WaitForStatus(c.node(sync), "/sync", 200));
    EXPECT_TRUE(WaitForStatus(c.node(3 - leader - sync), "/async", 200));
    EXPECT_EQ(c.node(leader).Query("SHOW synchronous_standby_names"), "\"" + standby + "\"");

    Writer writer(c.node(leader), 1000000 * (trial + 1));
    ASSERT_TRUE(WaitUntil([&] { return writer.acknowledged() > 100; }, milliseconds(10000)));
    PgrtNode& dead = c.node(leader);
    const pid_t postmaster = dead.PostmasterPid();
    ::kill(dead.pid(), SIGKILL);
    ::kill(postmaster, SIGKILL);
    dead.WaitExit(milliseconds(5000));
    writer.Stop();

    int fresh = -1;
    ASSERT_TRUE(WaitUntil(
        [&] {
          fresh = c.Primary();
          return fresh >= 0;
        },
        milliseconds((kTtl + 15) * 1000), milliseconds(50)))
        << c.Logs();
    EXPECT_EQ(fresh, sync) << "only the synchronous standby may be promoted";
    const int acked = writer.acknowledged();
    const std::string have = c.node(fresh).Query("SELECT count(*) FROM t WHERE v BETWEEN " +
                                                 std::to_string(writer.first()) + " AND " +
                                                 std::to_string(writer.first() + acked - 1));
    const int lost = acked - std::stoi(have.empty() ? "0" : have);
    lost_total += lost;
    EXPECT_EQ(lost, 0) << "trial " << trial << ": " << acked << " acknowledged, " << have
                       << " on the new leader";
    // The old leader rejoins (pg_rewind) before the next trial.
    dead.Start();
    leader = fresh;
    ASSERT_TRUE(WaitForStatus(dead, "/replica", 200, milliseconds(60000))) << dead.Log();
  }
  ::testing::Test::RecordProperty("lost_commits", lost_total);
}

}  // namespace

TEST(HaSync, AKilledLeaderLosesNoAcknowledgedCommitAndOnlyTheSyncStandbyTakesOver) {
  Cluster c(3, {{"PGRT_SYNC_MODE", "on"}});
  KilledLeadersLoseNoAcknowledgedCommit(c);
}

TEST(HaSync, OverAThreeMemberEtcdAKilledLeaderLosesNoAcknowledgedCommit) {
  Cluster c(3, ClusterOptions{.etcd_members = 3, .env = {{"PGRT_SYNC_MODE", "on"}}});
  KilledLeadersLoseNoAcknowledgedCommit(c);
}

}  // namespace pgrt::testing::ha
