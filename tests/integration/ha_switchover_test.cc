// Planned switchover and manual failover (PGRT_HA=etcd), through the API and the CLI; a
// manual promotion that would bypass the election is refused; `pgrt cluster` lists members.
#include <chrono>

#include "integration/ha_helpers.h"

namespace pgrt::testing::ha {
namespace {

std::string Name(int i) { return "n" + std::to_string(i + 1); }

Env CliEnv(PgrtNode& n) {
  return {{"PGRT_API_PORT", std::to_string(n.api_port())},
          {"PGRT_API_ADDRESS", "127.0.0.1"},
          {"PGRT_API_TOKEN", kApiToken}};
}

// Refused requests, then a switchover through the CLI of a replica: the candidate leads, the
// old leader follows it, every node holds every write, /history and `pgrt cluster` say so.
void SwitchoverHandsTheLeadershipToTheCandidate(Cluster& c) {
  c.StartAll();
  const int old = c.WaitSettled();
  ASSERT_GE(old, 0) << c.Logs();
  ASSERT_EQ(c.node(old).Query("CREATE TABLE t (v int); INSERT INTO t VALUES (1); SELECT 'ok'"),
            "ok");
  const int to = (old + 1) % c.size();
  for (int i = 0; i < c.size(); ++i)
    ASSERT_TRUE(WaitForValue(c.node(i), "SELECT count(*) FROM t", "1", milliseconds(30000)));

  // Refused: a candidate that is not a member, a leader that is not the leader, no token.
  EXPECT_EQ(Call(c.node(to), "POST", "/switchover", kApiToken, R"({"candidate":"nope"})").status,
            400);
  EXPECT_EQ(Call(c.node(to), "POST", "/switchover", kApiToken,
                 json{{"leader", Name(to)}, {"candidate", Name(old)}}.dump())
                .status,
            400);
  EXPECT_EQ(Call(c.node(to), "POST", "/switchover", "wrong-token", "{}").status, 403);
  // A manual promotion would make a second primary: the cluster decides.
  EXPECT_EQ(Call(c.node(to), "POST", "/__opr/replication/promote").status, 409);

  // Through the CLI of a replica, naming the candidate.
  const auto asked = Clock::now();
  CommandOutput out = RunPgrt({"switchover", "--to", Name(to)}, CliEnv(c.node(to)));
  ASSERT_EQ(out.exit_code, 0) << out.output << c.Logs();
  EXPECT_NE(out.output.find("switched over to " + Name(to)), std::string::npos) << out.output;
  ASSERT_TRUE(WaitUntil([&] { return c.Primary() == to; }, milliseconds(20000))) << c.Logs();
  ::testing::Test::RecordProperty(
      "switchover_ms",
      static_cast<int>(std::chrono::duration_cast<milliseconds>(Clock::now() - asked).count()));
  ASSERT_EQ(c.node(to).Query("INSERT INTO t VALUES (2); SELECT count(*) FROM t"), "2");
  // The old leader follows the new one; every node ends with both rows.
  ASSERT_TRUE(WaitForStatus(c.node(old), "/replica", 200, milliseconds(60000))) << c.Logs();
  for (int i = 0; i < c.size(); ++i)
    EXPECT_TRUE(WaitForValue(c.node(i), "SELECT count(*) FROM t", "2", milliseconds(30000)))
        << Name(i) << "\n"
        << c.Logs();

  // The history says who took over from whom, and why.
  json history = GetJson(c.node(old).api_port(), "/history").value_or(json());
  ASSERT_TRUE(history.is_array() && !history.empty()) << history.dump();
  EXPECT_EQ(history.back()["leader"], Name(to)) << history.dump();
  EXPECT_EQ(history.back()["previous"], Name(old)) << history.dump();
  EXPECT_EQ(history.back()["reason"], "switchover") << history.dump();
  // Hibernation would leave the lease held with no postgres behind it.
  EXPECT_EQ(Call(c.node(to), "POST", "/__opr/hibernate").status, 409);

  CommandOutput table = RunPgrt({"cluster"}, CliEnv(c.node(old)));
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("| " + Name(to)), std::string::npos) << table.output;
  const size_t leader_row = table.output.find("leader");
  ASSERT_NE(leader_row, std::string::npos) << table.output;
  EXPECT_NE(table.output.rfind(Name(to), leader_row), std::string::npos) << table.output;
}

}  // namespace

TEST(HaSwitchover, ASwitchoverHandsTheLeadershipToTheCandidateWithNoWriteLost) {
  Cluster c(3);
  SwitchoverHandsTheLeadershipToTheCandidate(c);
}

TEST(HaSwitchover, OverAThreeMemberEtcdASwitchoverHandsTheLeadershipToTheCandidateWithNoWriteLost) {
  Cluster c(3, ClusterOptions{.etcd_members = 3});
  SwitchoverHandsTheLeadershipToTheCandidate(c);
}

TEST(HaSwitchover, AManualFailoverPromotesTheNamedReplicaWhenNoLeaderIsLeft) {
  Cluster c(2);
  c.StartAll();
  const int old = c.WaitSettled();
  ASSERT_GE(old, 0) << c.Logs();
  const int other = 1 - old;
  ASSERT_EQ(c.node(old).Query("CREATE TABLE t (v int); INSERT INTO t VALUES (1); SELECT 'ok'"),
            "ok");
  ASSERT_TRUE(WaitForValue(c.node(other), "SELECT count(*) FROM t", "1", milliseconds(30000)));
  EXPECT_EQ(Call(c.node(other), "POST", "/failover", kApiToken, "{}").status, 400)
      << "a failover names its candidate";
  JsonResponse r =
      Call(c.node(other), "POST", "/failover", kApiToken, json{{"candidate", Name(other)}}.dump());
  ASSERT_EQ(r.status, 200) << r.body.dump() << c.Logs();
  EXPECT_EQ(c.Primary(), other);
}

}  // namespace pgrt::testing::ha
