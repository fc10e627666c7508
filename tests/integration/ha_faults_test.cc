// Faults of an HA cluster (PGRT_HA=etcd) beyond a dead leader: losing etcd altogether, a
// replica too far behind to be promoted, and clients behind HAProxy (routing on /primary)
// across a kill -9 of the leader.
#include <signal.h>

#include <chrono>
#include <thread>

#include "integration/ha_helpers.h"
#include "integration/haproxy_helpers.h"

namespace pgrt::testing::ha {
namespace {

void KillNode(PgrtNode& n) {
  const pid_t postmaster = n.PostmasterPid();
  ::kill(n.pid(), SIGKILL);
  if (postmaster > 0) ::kill(postmaster, SIGKILL);
  n.WaitExit(milliseconds(5000));
}

bool NoPrimaryFor(Cluster& c, milliseconds span) {
  return !WaitUntil([&] { return c.Primary() >= 0; }, span, milliseconds(50));
}

}  // namespace

TEST(HaFaults, LosingEtcdDemotesTheLeaderWithinItsLeaseAndARestartedEtcdElectsAgain) {
  Cluster c(2);
  c.StartAll();
  const int leader = c.WaitSettled();
  ASSERT_GE(leader, 0) << c.Logs();
  ASSERT_EQ(c.node(leader).Query("CREATE TABLE t (v int); SELECT 'ok'"), "ok");

  const auto lost = Clock::now();
  c.etcd().Kill(0);
  // No lease can be renewed: the leader stops taking writes before its lease could end.
  ASSERT_TRUE(WaitUntil(
      [&] {
        std::string error;
        c.node(leader).Query("INSERT INTO t VALUES (1)", &error);
        return !error.empty();
      },
      milliseconds(kTtl * 1000 + 3000), milliseconds(50)))
      << c.Logs();
  RecordProperty(
      "fenced_ms",
      static_cast<int>(std::chrono::duration_cast<milliseconds>(Clock::now() - lost).count()));
  EXPECT_EQ(c.node(leader).Get("/primary").status, 503);
  EXPECT_TRUE(NoPrimaryFor(c, milliseconds(2000))) << "no node leads without etcd";

  c.etcd().Start();
  const int next = c.WaitSettled(milliseconds(60000));
  ASSERT_GE(next, 0) << c.Logs();
  EXPECT_EQ(c.node(next).Query("INSERT INTO t VALUES (2); SELECT 'ok'"), "ok");
}

TEST(HaFaults, AReplicaFurtherBehindThanTheLagLimitIsNeverPromoted) {
  Cluster c(3, {{"PGRT_MAXIMUM_LAG_ON_FAILOVER", "65536"}});
  c.StartAll();
  const int leader = c.WaitSettled();
  ASSERT_GE(leader, 0) << c.Logs();
  const int lagging = (leader + 1) % 3, current = (leader + 2) % 3;
  ASSERT_EQ(c.node(leader).Query("CREATE TABLE t (v text); SELECT 'ok'"), "ok");
  ASSERT_TRUE(WaitForValue(c.node(lagging), "SELECT count(*) FROM t", "0", milliseconds(30000)));
  // The lagging replica's WAL receiver is frozen: it receives nothing more.
  const std::string receiver = c.node(lagging).Query("SELECT pid FROM pg_stat_wal_receiver");
  ASSERT_FALSE(receiver.empty()) << c.node(lagging).Log();
  const pid_t receiver_pid = std::stoi(receiver);
  ASSERT_EQ(::kill(receiver_pid, SIGSTOP), 0);
  ASSERT_EQ(c.node(leader).Query("INSERT INTO t SELECT repeat('x', 1000) FROM "
                                 "generate_series(1, 2000); SELECT 'ok'"),
            "ok");
  ASSERT_TRUE(WaitForValue(c.node(current), "SELECT count(*) FROM t", "2000", milliseconds(30000)));
  std::this_thread::sleep_for(milliseconds(2500));  // the members publish their positions

  // The leader and the up-to-date replica die: the lagging one alone is left, and waits.
  KillNode(c.node(leader));
  KillNode(c.node(current));
  EXPECT_TRUE(NoPrimaryFor(c, milliseconds((kTtl + 4) * 1000))) << c.node(lagging).Log();
  // The up-to-date replica returns and takes over; the lagging one follows it. Its WAL
  // receiver stays frozen until then: woken earlier, it would read what its socket buffer
  // still holds of the dead leader's WAL, be lagging no more and rightly campaign.
  c.node(current).Start();
  const bool took_over = WaitUntil([&] { return c.Primary() == current; }, milliseconds(60000));
  ::kill(receiver_pid, SIGCONT);
  ASSERT_TRUE(took_over) << c.Logs();
  EXPECT_TRUE(WaitForValue(c.node(lagging), "SELECT count(*) FROM t", "2000", milliseconds(30000)))
      << c.Logs();
}

TEST(HaFaults, WritesThroughHaproxyResumeOnTheNewLeaderAfterAKillOfTheOld) {
  Cluster c(3);
  c.StartAll();
  const int old = c.WaitSettled();
  ASSERT_GE(old, 0) << c.Logs();
  ASSERT_EQ(c.node(old).Query("CREATE TABLE t (v int); SELECT 'ok'"), "ok");

  // Patroni's documented HAProxy shape: a check of /primary on each node's API.
  TempDir dir;
  const int front = FreePort();
  std::string cfg =
      "global\n  maxconn 100\ndefaults\n  mode tcp\n  timeout connect 1s\n"
      "  timeout client 30s\n  timeout server 30s\n  timeout check 1s\n"
      "listen primary\n  bind 127.0.0.1:" +
      std::to_string(front) +
      "\n  option httpchk GET /primary\n  http-check expect status 200\n"
      "  default-server inter 200ms fall 1 rise 1 on-marked-down shutdown-sessions\n";
  for (int i = 0; i < c.size(); ++i)
    cfg += "  server n" + std::to_string(i + 1) +
           " 127.0.0.1:" + std::to_string(c.node(i).pg_port()) + " check port " +
           std::to_string(c.node(i).api_port()) + "\n";
  WriteFileOrDie(dir.path() + "/haproxy.cfg", cfg);
  std::optional<Child> haproxy = StartHaproxy(dir.path() + "/haproxy.cfg", dir.path() + "/log");
  ASSERT_TRUE(haproxy.has_value());
  ConnParams via = c.node(old).Conn();
  via["host"] = "127.0.0.1";
  via["port"] = std::to_string(front);
  via["connect_timeout"] = "2";
  auto write = [&](int v) {
    auto conn = PgConn::Connect(via);
    return conn.ok() && conn->Exec("INSERT INTO t VALUES (" + std::to_string(v) + ")").ok();
  };
  ASSERT_TRUE(WaitUntil([&] { return write(1); }, milliseconds(10000)));

  const auto killed = Clock::now();
  KillNode(c.node(old));
  ASSERT_TRUE(
      WaitUntil([&] { return write(2); }, milliseconds((kTtl + 10) * 1000), milliseconds(20)))
      << c.Logs();
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - killed);
  RecordProperty("kill_to_write_ms", static_cast<int>(took.count()));
  EXPECT_LT(took.count(), (kTtl + 3) * 1000) << "kill -9 of the leader to a write through HAProxy";
  const int fresh = c.Primary();
  ASSERT_GE(fresh, 0);
  EXPECT_NE(fresh, old);
  EXPECT_EQ(c.node(fresh).Query("SELECT count(*) FROM t WHERE v = 2"), "1");
}

}  // namespace pgrt::testing::ha
