// Rejoining nodes whose data forked (PGRT_HA=etcd, asynchronous replication): a replica that
// received more of a lost leader's WAL than the node promoted cannot follow the new timeline
// as it is; pgrt finds out where the new leader's timeline forked, rewinds it and makes it a
// replica of the new leader, holding exactly its rows.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "integration/ha_helpers.h"

namespace pgrt::testing::ha {
namespace {

std::string Name(int i) { return "n" + std::to_string(i + 1); }

const char* kState = "SELECT count(*) || ':' || sum(v) FROM t";

// The old leader's last record may be a WAL segment ahead (pg_switch_wal): any lag may fail over.
const char* kAnyLag = "2147483647";

json StatusOf(const PgrtNode& n) { return GetJson(n.api_port(), "/__opr/status").value_or(json()); }

// Directories beside `pgdata` whose names start with its own and ".broken-".
std::vector<std::string> SetAside(const std::string& pgdata) {
  const std::filesystem::path p(pgdata);
  return EntriesStartingWith(p.parent_path().string(), p.filename().string() + ".broken-");
}

// Two nodes; the leader dies holding WAL its replica never received (its WAL sender was
// frozen) and a checkpoint made after that WAL. The WAL segments before that checkpoint's are
// removed from its pg_wal: postgres starts from the checkpoint as before, but pg_rewind, which
// reads back from the fork to the last common checkpoint, cannot. `old` is the dead leader
// (stopped), `fresh` the new leader; `expected` the new leader's rows.
void LeaderThatCannotBeRewound(Cluster& c, int* old, int* fresh, std::string* expected) {
  c.StartAll();
  *old = c.WaitSettled();
  ASSERT_GE(*old, 0) << c.Logs();
  *fresh = 1 - *old;
  PgrtNode& dead = c.node(*old);
  ASSERT_EQ(dead.Query("CREATE TABLE t (v int); INSERT INTO t SELECT generate_series(1, 100); "
                       "CHECKPOINT; SELECT 'ok'"),
            "ok");
  ASSERT_TRUE(WaitForValue(c.node(*fresh), "SELECT count(*) FROM t", "100", milliseconds(30000)))
      << c.Logs();
  const std::string sender = dead.Query(
      "SELECT pid FROM pg_stat_replication WHERE application_name = '" + Name(*fresh) + "'");
  ASSERT_FALSE(sender.empty()) << dead.Log();
  const pid_t sender_pid = std::stoi(sender);
  ASSERT_EQ(::kill(sender_pid, SIGSTOP), 0);
  const std::string keep_from =
      WriteAndCheckpointInNewSegment(dead, "INSERT INTO t SELECT generate_series(101, 200)");
  ASSERT_EQ(keep_from.size(), 24u) << dead.Log();
  const pid_t postmaster = dead.PostmasterPid();
  ASSERT_EQ(::kill(dead.pid(), SIGKILL), 0);
  ASSERT_EQ(::kill(postmaster, SIGKILL), 0);
  ::kill(sender_pid, SIGKILL);
  dead.WaitExit(milliseconds(5000));
  ASSERT_TRUE(WaitUntil([&] { return c.Primary() == *fresh; }, milliseconds((kTtl + 20) * 1000),
                        milliseconds(100)))
      << c.Logs();
  ASSERT_EQ(c.node(*fresh).Query("INSERT INTO t VALUES (1000); SELECT 'ok'"), "ok");
  *expected = c.node(*fresh).Query(kState);
  ASSERT_EQ(*expected, "101:6050");
  // Real files: the old leader's segments before its last checkpoint's go.
  const int removed = RemoveWalBefore(dead.pgdata(), keep_from);
  ASSERT_GT(removed, 0) << "no segment before " << keep_from;
}

}  // namespace

TEST(HaRejoin, AnOldLeaderThatCannotBeRewoundIsClonedAgainWithoutRestartingPgrt) {
  Cluster c(2, Env{{"PGRT_REPLICA_RECLONE", "true"}, {"PGRT_MAXIMUM_LAG_ON_FAILOVER", kAnyLag}});
  int old = -1, fresh = -1;
  std::string expected;
  ASSERT_NO_FATAL_FAILURE(LeaderThatCannotBeRewound(c, &old, &fresh, &expected));
  PgrtNode& node = c.node(old);
  const size_t mark = node.LogSize();
  node.Start();
  const pid_t pgrt = node.pid();
  EXPECT_TRUE(WaitForValue(node, kState, expected, milliseconds(120000))) << node.LogSince(mark);
  EXPECT_EQ(node.Query("SELECT pg_is_in_recovery()"), "t");
  EXPECT_EQ(node.pid(), pgrt) << "pgrt restarted";
  EXPECT_TRUE(ProcessAlive(pgrt));
  const std::string log = node.LogSince(mark);
  EXPECT_NE(log.find("pg_rewind failed"), std::string::npos) << log;
  EXPECT_NE(log.find("try 4 of 4: giving up"), std::string::npos) << log;
  EXPECT_NE(log.find("rewinding → recloning"), std::string::npos) << log;
  EXPECT_NE(log.find("recloning → starting"), std::string::npos) << log;
  // The old data is kept beside PGDATA, as it was (its own last checkpoint's segment in it).
  const std::vector<std::string> aside = SetAside(node.pgdata());
  ASSERT_EQ(aside.size(), 1u);
  const std::string& kept = aside[0];
  EXPECT_TRUE(std::filesystem::exists(kept + "/PG_VERSION"));
  EXPECT_TRUE(WaitUntil([&] { return StatusOf(node)["phase"] == "ready"; }, milliseconds(10000)))
      << StatusOf(node).dump();
  EXPECT_EQ(node.Get("/replica").status, 200);
  PgrtNode& leader = c.node(fresh);
  leader.Query("INSERT INTO t VALUES (2000)");
  EXPECT_TRUE(WaitForValue(node, kState, leader.Query(kState), milliseconds(30000)))
      << node.LogSince(mark);
  EXPECT_EQ(c.Primary(), fresh);
}

TEST(HaRejoin, AnOldLeaderThatCannotBeRewoundStaysStoppedAndSaysWhyWhereRecloningIsOff) {
  Cluster c(2, Env{{"PGRT_MAXIMUM_LAG_ON_FAILOVER", kAnyLag}});
  int old = -1, fresh = -1;
  std::string expected;
  ASSERT_NO_FATAL_FAILURE(LeaderThatCannotBeRewound(c, &old, &fresh, &expected));
  PgrtNode& node = c.node(old);
  const size_t mark = node.LogSize();
  node.Start();
  const pid_t pgrt = node.pid();
  EXPECT_TRUE(WaitUntil([&] { return StatusOf(node)["phase"] == "cannot_rejoin"; },
                        milliseconds(90000), milliseconds(200)))
      << node.LogSince(mark);
  const json status = StatusOf(node);
  const std::string message = status.value("message", "");
  EXPECT_NE(message.find("pg_rewind from"), std::string::npos) << status.dump();
  EXPECT_NE(message.find("PGRT_REPLICA_RECLONE=true"), std::string::npos) << status.dump();
  // pgrt keeps serving, postgres stays stopped, the data stays where it is, the new leader
  // stays the only primary (the node does not campaign), for longer than a lease.
  std::this_thread::sleep_for(milliseconds(2 * kTtl * 1000));
  EXPECT_TRUE(node.running());
  EXPECT_EQ(node.pid(), pgrt);
  EXPECT_EQ(StatusOf(node)["phase"], "cannot_rejoin");
  EXPECT_EQ(node.Get("/primary").status, 503);
  EXPECT_EQ(node.Get("/replica").status, 503);
  EXPECT_EQ(node.Get("/liveness").status, 200);
  std::string error;
  node.Query("SELECT 1", &error);
  EXPECT_FALSE(error.empty()) << "postgres runs";
  EXPECT_EQ(c.Primary(), fresh);
  EXPECT_EQ(c.node(fresh).Query(kState), expected);
  EXPECT_TRUE(SetAside(node.pgdata()).empty());
  EXPECT_TRUE(std::filesystem::exists(node.pgdata() + "/PG_VERSION"));
  const json view = GetJson(c.node(fresh).api_port(), "/cluster").value_or(json());
  EXPECT_EQ(view["leader"], Name(fresh)) << view.dump();
}

TEST(HaRejoin, AReplicaAheadOfThePromotedNodeIsRewoundAndFollowsTheNewLeader) {
  // A lease long enough for the manual failover to be written before it ends.
  Cluster c(3, Env{{"PGRT_HA_TTL", "6"}});
  c.StartAll();
  const int old = c.WaitSettled();
  ASSERT_GE(old, 0) << c.Logs();
  const int behind = (old + 1) % 3;  // to be promoted while it lags
  const int ahead = (old + 2) % 3;   // to receive more of the old leader's WAL
  PgrtNode& dead = c.node(old);
  ASSERT_EQ(dead.Query("CREATE TABLE t (v int); INSERT INTO t SELECT generate_series(1, 100); "
                       "SELECT 'ok'"),
            "ok");
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(WaitForValue(c.node(i), "SELECT count(*) FROM t", "100", milliseconds(30000)))
        << Name(i) << "\n"
        << c.Logs();

  // The old leader's WAL sender for `behind` is frozen: from now on only `ahead` receives.
  const std::string sender = dead.Query(
      "SELECT pid FROM pg_stat_replication WHERE application_name = '" + Name(behind) + "'");
  ASSERT_FALSE(sender.empty()) << dead.Log();
  const pid_t sender_pid = std::stoi(sender);
  ASSERT_EQ(::kill(sender_pid, SIGSTOP), 0);
  ASSERT_EQ(dead.Query("INSERT INTO t SELECT generate_series(101, 200); SELECT 'ok'"), "ok");
  ASSERT_TRUE(WaitForValue(c.node(ahead), "SELECT count(*) FROM t", "200", milliseconds(30000)))
      << c.Logs();
  EXPECT_EQ(c.node(behind).Query("SELECT count(*) FROM t"), "100");

  // The old leader dies (pgrt, postgres, and the frozen sender, which cannot notice); the
  // operator promotes the node that lags.
  const pid_t postmaster = dead.PostmasterPid();
  const pid_t ahead_pgrt = c.node(ahead).pid();
  ASSERT_EQ(::kill(dead.pid(), SIGKILL), 0);
  ASSERT_EQ(::kill(postmaster, SIGKILL), 0);
  ::kill(sender_pid, SIGKILL);
  dead.WaitExit(milliseconds(5000));
  const JsonResponse failover = Call(c.node(behind), "POST", "/failover", kApiToken,
                                     json{{"candidate", Name(behind)}}.dump());
  ASSERT_EQ(failover.status, 200) << failover.body.dump() << "\n" << c.Logs();
  ASSERT_TRUE(
      WaitUntil([&] { return c.Primary() == behind; }, milliseconds(30000), milliseconds(100)))
      << c.Logs();
  PgrtNode& leader = c.node(behind);
  // Asynchronous mode: the rows only the old leader and `ahead` had are gone with the old
  // timeline.
  EXPECT_EQ(leader.Query("SELECT count(*) FROM t"), "100");
  ASSERT_EQ(leader.Query("INSERT INTO t VALUES (1000); SELECT 'ok'"), "ok") << leader.Log();
  const std::string expected = leader.Query(kState);
  ASSERT_EQ(expected, "101:6050");

  // The node ahead is rewound from the new leader, without a restart of pgrt, and follows it.
  PgrtNode& rewound = c.node(ahead);
  EXPECT_TRUE(WaitForValue(rewound, kState, expected, milliseconds(90000))) << rewound.Log();
  EXPECT_EQ(rewound.Query("SELECT pg_is_in_recovery()"), "t");
  EXPECT_EQ(rewound.Query("SELECT count(*) FROM t WHERE v BETWEEN 101 AND 200"), "0");
  EXPECT_EQ(rewound.pid(), ahead_pgrt);
  EXPECT_TRUE(ProcessAlive(ahead_pgrt));
  const std::string log = rewound.Log();
  EXPECT_NE(log.find("needs pg_rewind"), std::string::npos) << log;
  EXPECT_NE(log.find("pg_rewind finished"), std::string::npos) << log;
  EXPECT_EQ(rewound.Get("/replica").status, 200);
  // It keeps following: a later write arrives.
  leader.Query("INSERT INTO t VALUES (2000)");
  EXPECT_TRUE(WaitForValue(rewound, kState, leader.Query(kState), milliseconds(30000)))
      << rewound.Log();
  EXPECT_EQ(c.Primary(), behind);
}

}  // namespace pgrt::testing::ha
