// A backend that outlives a kill -9 of pgrt (and of its postmaster) holds the cluster's shared
// memory; the next `pgrt run` on that PGDATA ends it and starts — and touches nothing that
// is not of this cluster: not another node's postgres, not another process of the account.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "harness/harness.h"
#include "process/user.h"

namespace pgrt::testing {
namespace {

using std::chrono::milliseconds;

// Kills `pid` (a process this test made survive) when the test ends, however it ends.
struct KillAtEnd {
  pid_t pid = 0;
  ~KillAtEnd() {
    if (pid > 0 && ProcessAlive(pid)) ::kill(pid, SIGKILL);
  }
};

// A backend busy in a query that never looks at its postmaster: a pure computation. (A
// backend waiting in pg_sleep or for its client notices the postmaster's death and exits.)
// The server-side timeout bounds it should the test fail and leave it behind.
pid_t StartBusyBackend(const PgrtNode& node, std::optional<PgConn>& conn) {
  auto c = PgConn::Connect(node.Conn());
  if (!c.ok()) {
    ADD_FAILURE() << c.status().message();
    return 0;
  }
  conn.emplace(std::move(*c));
  auto r = conn->Exec("SET statement_timeout = '120s'; SELECT pg_backend_pid()");
  if (!r.ok()) {
    ADD_FAILURE() << r.status().message();
    return 0;
  }
  const pid_t pid = std::stoi(r->Get(0, 0));
  EXPECT_EQ(PQsendQuery(conn->raw(), "SELECT count(*) FROM generate_series(1, 100000000000)"), 1);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return node.Query("SELECT state FROM pg_stat_activity WHERE pid = " +
                          std::to_string(pid)) == "active";
      },
      milliseconds(5000)));
  return pid;
}

TEST(OrphanedBackend, ANewRunEndsTheBackendAKilledPgrtLeftAndServesEveryCommittedRow) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  std::string err;
  node.Query("CREATE TABLE kept (v int); INSERT INTO kept SELECT generate_series(1, 1000)", &err);
  ASSERT_EQ(err, "");
  std::optional<PgConn> busy;
  KillAtEnd orphan{StartBusyBackend(node, busy)};
  ASSERT_GT(orphan.pid, 0);
  const pid_t postmaster = node.PostmasterPid();
  ASSERT_GT(postmaster, 0);

  // kill -9 of pgrt: PDEATHSIG takes the postmaster down with it (killed here as well, so
  // the test does not depend on it); the busy backend does not notice.
  ASSERT_EQ(::kill(node.pid(), SIGKILL), 0);
  ::kill(postmaster, SIGKILL);
  ASSERT_TRUE(node.WaitExit(milliseconds(5000)).has_value());
  ASSERT_TRUE(WaitUntil([&] { return !ProcessAlive(postmaster); }, milliseconds(5000)));
  ASSERT_TRUE(ProcessAlive(orphan.pid)) << "the backend did not survive: nothing to test";

  size_t mark = node.LogSize();
  auto t0 = std::chrono::steady_clock::now();
  node.Start();
  ASSERT_TRUE(node.WaitHealthy(milliseconds(20000))) << node.LogSince(mark);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(10)) << node.LogSince(mark);
  EXPECT_FALSE(ProcessAlive(orphan.pid)) << "the old backend still runs";
  EXPECT_EQ(node.Query("SELECT count(*) FROM kept"), "1000");
  std::string log = node.LogSince(mark);
  EXPECT_NE(log.find("left by the previous postmaster (pid " + std::to_string(postmaster)),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("pre-existing shared memory block"), std::string::npos) << log;
  auto status = nlohmann::json::parse(node.Get("/__opr/status").body, nullptr, false);
  ASSERT_TRUE(status.is_object());
  EXPECT_EQ(status["restarts"], 0) << "the cleanup cost a crash-restart: " << status.dump() << log;
  EXPECT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
}

TEST(OrphanedBackend, TheCleanupTouchesNoOtherClusterAndNoOtherProcessOfTheAccount) {
  PgrtNode other;  // another cluster of the same account, running all along
  other.Start();
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(other.WaitHealthy()) << other.Log();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  std::optional<PgConn> other_busy;
  KillAtEnd other_backend{StartBusyBackend(other, other_busy)};
  const pid_t other_postmaster = other.PostmasterPid();

  // A process of the run-as account working in this node's PGDATA but belonging to no
  // postmaster (someone's shell, a script): not ours to end.
  auto run_as =
      ChildCredentials(node.env().count("PGRT_RUN_AS") ? node.env().at("PGRT_RUN_AS") : "postgres");
  ASSERT_TRUE(run_as.ok()) << run_as.status().message();
  SpawnSpec spec;
  spec.name = "bystander";
  spec.argv = {"/bin/sleep", "120"};
  if (::geteuid() == 0) spec.run_as = *run_as;
  spec.cwd = node.pgdata();
  auto bystander = Child::Spawn(spec);
  ASSERT_TRUE(bystander.ok()) << bystander.status().message();

  std::optional<PgConn> busy;
  KillAtEnd orphan{StartBusyBackend(node, busy)};
  const pid_t postmaster = node.PostmasterPid();
  ASSERT_EQ(::kill(node.pid(), SIGKILL), 0);
  ::kill(postmaster, SIGKILL);
  ASSERT_TRUE(node.WaitExit(milliseconds(5000)).has_value());
  ASSERT_TRUE(ProcessAlive(orphan.pid));

  node.Start();
  ASSERT_TRUE(node.WaitHealthy(milliseconds(20000))) << node.Log();
  EXPECT_FALSE(ProcessAlive(orphan.pid));
  EXPECT_TRUE(ProcessAlive(bystander->pid())) << "a process of no postmaster was ended";
  EXPECT_TRUE(ProcessAlive(other_postmaster)) << "the other cluster's postmaster was ended";
  EXPECT_TRUE(ProcessAlive(other_backend.pid)) << "the other cluster's backend was ended";
  EXPECT_EQ(other.Get("/__opr/health").status, 200) << other.Log();
  EXPECT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
  EXPECT_EQ(ExitCode(other.Stop(SIGTERM)), 0) << other.Log();
}

}  // namespace
}  // namespace pgrt::testing
