// Scale to zero with PgBouncer (PGRT_IDLE_TIMEOUT with PGBOUNCER_ENABLED): pgrt holds
// PgBouncer's port too, PgBouncer sleeps with postgres, and a client of PgBouncer that
// arrives at a sleeping node is served on its first attempt. PgBouncer never connects to a
// postgres that is not there, so it never turns clients away for server_login_retry.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness/harness.h"
#include "pooler_helpers.h"
#include "sleep_helpers.h"

namespace pgrt::testing {
namespace {

using pool::PgbouncerPid;
using pool::PoolerClient;
using pool::PoolerConn;
using pool::PoolerEnv;
using pool::PoolerPort;
using std::chrono::milliseconds;
using json = nlohmann::json;
using scale_to_zero::Sleep;
using scale_to_zero::Status;
using scale_to_zero::WaitAsleep;
using scale_to_zero::Wakes;
constexpr const char* kToken = "sleep-pooler-test-token";

Env SleepPoolerEnv(int idle_seconds = 1, const Env& extra = {}) {
  Env env = PoolerEnv({{"PGRT_IDLE_TIMEOUT", std::to_string(idle_seconds)},
                       {"PGRT_API_TOKEN", kToken},
                       // PgBouncer keeps server connections open on its own: they must
                       // neither keep postgres awake nor be attempted while it sleeps.
                       {"PGBOUNCER_MIN_POOL_SIZE", "2"}});
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

// One statement through PgBouncer on a fresh connection; "" when it succeeded.
std::string ThroughPooler(PgrtNode& node, const std::string& sql) {
  auto conn = PgConn::Connect(PoolerConn(node));
  if (!conn.ok()) return conn.status().message();
  auto r = conn->Exec(sql);
  return r.ok() ? "" : r.status().message();
}

// PgBouncer never failed to log in to postgres, so it never refused a client for
// server_login_retry.
void ExpectNoPoolerLoginFailure(const PgrtNode& node) {
  const std::string log = node.Log();
  for (const char* s : {"login failed", "server_login_retry", "login has been failing",
                        "connect failed", "cannot connect to server"})
    EXPECT_EQ(log.find(s), std::string::npos) << "PgBouncer's log has \"" << s << "\"\n" << log;
}

// Healthy, or asleep already: with a 1 s idle timeout a loaded machine may miss the moment
// in between (and a first start, with initdb, may take long there).
bool WaitUp(const PgrtNode& node) {
  return WaitUntil(
      [&] {
        if (node.Get("/__opr/health").status == 200) return true;
        json s = Sleep(node);
        return s.is_object() && s["asleep"] == true;
      },
      milliseconds(90000), milliseconds(20));
}

// A sleeping node with PgBouncer, with table t created, asleep when this returns.
void StartAsleep(PgrtNode& node) {
  node.Start();
  ASSERT_TRUE(WaitUp(node)) << node.Log();
  ASSERT_TRUE(pool::WaitPoolerAnswers(node)) << node.Log();
  ASSERT_EQ(ThroughPooler(node, "CREATE TABLE IF NOT EXISTS t (i int)"), "");
  ASSERT_TRUE(WaitAsleep(node)) << Sleep(node).dump() << node.Log();
}

}  // namespace

TEST(SleepPooler, PsqlAndPgbenchThroughPgBouncerReachASleepingNodeOnTheirFirstAttempt) {
  PgrtNode node(SleepPoolerEnv());
  ASSERT_NO_FATAL_FAILURE(StartAsleep(node));
  EXPECT_EQ(node.PostmasterPid(), 0) << "no postgres while asleep";
  EXPECT_EQ(PgbouncerPid(node), 0) << "PgBouncer sleeps with postgres";
  const uint64_t before = Wakes(node);

  CommandOutput psql = PoolerClient(
      node, "psql",
      {"-X", "-A", "-t", "-c", "SELECT count(*) FROM t", node.env().at("POSTGRES_DB")});
  EXPECT_EQ(psql.exit_code, 0) << psql.output << node.Log();
  EXPECT_EQ(psql.output, "0\n");
  EXPECT_NE(PgbouncerPid(node), 0) << "PgBouncer woke with postgres";
  ASSERT_TRUE(WaitAsleep(node)) << node.Log();

  const std::string script = node.dir() + "/select.sql";
  WriteFileOrDie(script, "SELECT count(*) FROM t;\n");
  CommandOutput bench = PoolerClient(
      node, "pgbench", {"-n", "-c", "4", "-t", "25", "-f", script, node.env().at("POSTGRES_DB")});
  EXPECT_EQ(bench.exit_code, 0) << bench.output << node.Log();
  EXPECT_NE(bench.output.find("number of transactions actually processed: 100/100"),
            std::string::npos)
      << bench.output;
  ASSERT_TRUE(WaitAsleep(node)) << node.Log();

  {  // PgBouncer's Unix socket is held as well (.s.PGSQL.<PGBOUNCER_PORT>).
    ConnParams over_socket = PoolerConn(node);
    over_socket["host"] = node.env().at("PGRT_SOCKET_DIR");
    auto conn = PgConn::Connect(over_socket);
    ASSERT_TRUE(conn.ok()) << conn.status().message() << node.Log();
    EXPECT_TRUE(conn->Exec("SELECT 1").ok());
  }
  json s = Sleep(node);
  EXPECT_EQ(s["wakes"], before + 3) << s.dump();
  EXPECT_EQ(s["clientsRefused"], 0) << s.dump();
  EXPECT_GT(s["recentWakes"].back()["clientWaitSeconds"].get<double>(), 0) << s.dump();
  ExpectNoPoolerLoginFailure(node);
  EXPECT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
}

TEST(SleepPooler, TwentyFiveClientsThroughPgBouncerDuringOneWakeAreAllServedByOneStart) {
  PgrtNode node(SleepPoolerEnv());
  ASSERT_NO_FATAL_FAILURE(StartAsleep(node));
  const uint64_t before = Wakes(node);
  constexpr int kClients = 25;
  std::atomic<int> served{0};
  std::vector<std::string> errors(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      errors[i] = ThroughPooler(node, "INSERT INTO t VALUES (" + std::to_string(i) + ")");
      if (errors[i].empty()) ++served;
    });
  for (auto& t : clients) t.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(served.load(), kClients);
  EXPECT_EQ(node.Query("SELECT count(DISTINCT i) FROM t"), std::to_string(kClients));
  EXPECT_EQ(Wakes(node), before + 1) << "one start for all of them";
  EXPECT_EQ(Sleep(node)["clientsRefused"], 0);
  ExpectNoPoolerLoginFailure(node);
}

TEST(SleepPooler, AClientOfPgBouncerKeepsItAwakeAndItSleepsOnceTheClientLeaves) {
  PgrtNode node(SleepPoolerEnv());
  ASSERT_NO_FATAL_FAILURE(StartAsleep(node));
  {
    auto conn = PgConn::Connect(PoolerConn(node));
    ASSERT_TRUE(conn.ok()) << conn.status().message() << node.Log();
    ASSERT_TRUE(conn->Exec("BEGIN").ok());
    ASSERT_TRUE(conn->Exec("INSERT INTO t VALUES (1)").ok());
    std::this_thread::sleep_for(milliseconds(3500));  // idle in a transaction
    EXPECT_EQ(Sleep(node)["asleep"], false);
    EXPECT_EQ(Sleep(node)["clientSessions"], 1);
    EXPECT_TRUE(conn->Exec("COMMIT").ok()) << "the session survived";
    std::this_thread::sleep_for(milliseconds(2500));  // connected, no transaction
    EXPECT_EQ(Sleep(node)["asleep"], false) << "a connected client of PgBouncer is a session";
    EXPECT_TRUE(conn->Exec("SELECT 1").ok());
  }
  // PgBouncer still holds its server connections (PGBOUNCER_SERVER_IDLE_TIMEOUT is 600 s,
  // PGBOUNCER_MIN_POOL_SIZE 2): they do not keep postgres awake.
  EXPECT_TRUE(WaitAsleep(node, milliseconds(8000))) << "asleep once it left\n" << node.Log();
  EXPECT_EQ(PgbouncerPid(node), 0);
  EXPECT_EQ(node.PostmasterPid(), 0);
  EXPECT_EQ(ThroughPooler(node, "SELECT count(*) FROM t"), "");
  ExpectNoPoolerLoginFailure(node);
}

TEST(SleepPooler, PgBouncerNeverFailsALoginWhilePostgresSleepsOrWakes) {
  PgrtNode node(SleepPoolerEnv());
  ASSERT_NO_FATAL_FAILURE(StartAsleep(node));
  // Asleep longer than PgBouncer's server_login_retry: a PgBouncer left running would have
  // tried its minimum pool by now and failed.
  std::this_thread::sleep_for(milliseconds(2500));
  EXPECT_EQ(ThroughPooler(node, "SELECT 1"), "") << node.Log();
  ASSERT_TRUE(WaitAsleep(node)) << node.Log();
  // Woken through postgres's own port, then PgBouncer's client comes while it starts.
  std::thread direct([&] {
    std::string error;
    node.Query("SELECT 1", &error);
    EXPECT_EQ(error, "");
  });
  std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(ThroughPooler(node, "SELECT 1"), "") << node.Log();
  direct.join();
  EXPECT_EQ(Sleep(node)["clientsRefused"], 0);
  ExpectNoPoolerLoginFailure(node);
}

TEST(SleepPooler, SleepAndWakeManyTimesThroughPgBouncerKeepEveryRow) {
  const char* n = std::getenv("PGRT_SLEEP_CYCLES");
  const int cycles = n != nullptr ? std::atoi(n) : 5;
  PgrtNode node(SleepPoolerEnv(3600));  // never idle long enough: the API puts it to sleep
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_TRUE(pool::WaitPoolerAnswers(node)) << node.Log();
  ASSERT_EQ(ThroughPooler(node, "CREATE TABLE t (i int)"), "");
  for (int i = 1; i <= cycles; ++i) {
    HttpResponse slept = HttpRequest(node.api_port(), "POST", "/__opr/hibernate", kToken);
    ASSERT_EQ(slept.status, 200) << slept.body << node.Log();
    ASSERT_EQ(Sleep(node)["asleep"], true);
    ASSERT_EQ(PgbouncerPid(node), 0) << "cycle " << i;
    // The insert through PgBouncer wakes it.
    ASSERT_EQ(ThroughPooler(node, "INSERT INTO t VALUES (" + std::to_string(i) + ")"), "")
        << "cycle " << i << "\n"
        << node.Log();
  }
  auto conn = PgConn::Connect(PoolerConn(node));
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  auto count = conn->Exec("SELECT count(DISTINCT i) FROM t");
  ASSERT_TRUE(count.ok()) << count.status().message();
  EXPECT_EQ(count->Get(0, 0), std::to_string(cycles));
  EXPECT_EQ(Wakes(node), static_cast<uint64_t>(cycles));
  EXPECT_EQ(Sleep(node)["clientsRefused"], 0);
  ExpectNoPoolerLoginFailure(node);
  // Every sleep was a clean shutdown: no wake needed crash recovery.
  EXPECT_EQ(node.Log().find("database system was not properly shut down"), std::string::npos);
}

}  // namespace pgrt::testing
