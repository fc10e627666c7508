// Scale to zero (PGRT_IDLE_TIMEOUT): pgrt holds the client port, postgres sleeps when no
// client session is open and wakes at the next connection, which succeeds on its first
// attempt whatever the client (libpq, psql, pgbench, TLS with SCRAM, fifty at once).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness/harness.h"
#include "sleep_helpers.h"

namespace pgrt::testing {
namespace {

using std::chrono::milliseconds;
using json = nlohmann::json;
using scale_to_zero::Sleep;
using scale_to_zero::Status;
using scale_to_zero::WaitAsleep;
using scale_to_zero::Wakes;
constexpr const char* kToken = "sleep-test-token";

Env SleepEnv(int idle_seconds = 1) {
  return {{"PGRT_IDLE_TIMEOUT", std::to_string(idle_seconds)}, {"PGRT_API_TOKEN", kToken}};
}

CommandOutput Client(const PgrtNode& node, const std::string& tool,
                     const std::vector<std::string>& args) {
  std::vector<std::string> argv = {
      PgBinDir() + "/" + tool,       "-h", "127.0.0.1", "-p", std::to_string(node.pg_port()), "-U",
      node.env().at("POSTGRES_USER")};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, {{"PATH", "/usr/bin:/bin"}, {"PGPASSWORD", node.password()}});
}

// A node that sleeps, with table t created, asleep when this returns.
void StartAsleep(PgrtNode& node) {
  node.Start();
  // Healthy, or already asleep: on a loaded machine the node may be up for less than a poll
  // before its idle timeout ends it (a first boot took 13 s at load 12).
  ASSERT_TRUE(WaitUntil(
      [&] {
        if (node.Get("/__opr/health").status == 200) return true;
        json s = Sleep(node);
        return s.is_object() && s["asleep"] == true;
      },
      milliseconds(60000), milliseconds(50)))
      << node.Log();
  std::string error;
  node.Query("CREATE TABLE IF NOT EXISTS t (i int)", &error);
  ASSERT_EQ(error, "");
  ASSERT_TRUE(WaitAsleep(node)) << Status(node).dump() << node.Log();
}

}  // namespace

TEST(Sleep, LibpqPsqlAndPgbenchReachASleepingNodeOnTheirFirstAttempt) {
  PgrtNode node(SleepEnv());
  ASSERT_NO_FATAL_FAILURE(StartAsleep(node));
  EXPECT_EQ(Status(node)["phase"], "hibernated");
  EXPECT_EQ(node.PostmasterPid(), 0) << "no postgres while asleep";

  {  // libpq, with no retry of its own
    auto conn = PgConn::Connect(node.Conn());
    ASSERT_TRUE(conn.ok()) << conn.status().message() << node.Log();
    auto r = conn->Exec("INSERT INTO t VALUES (1)");
    ASSERT_TRUE(r.ok()) << r.status().message();
    // A loopback client is seen from 127.0.0.1 behind the door: pg_hba.conf's local rules.
    auto addr = conn->Exec("SELECT host(inet_client_addr())");
    ASSERT_TRUE(addr.ok());
    EXPECT_EQ(addr->Get(0, 0), "127.0.0.1");
  }
  ASSERT_TRUE(WaitAsleep(node)) << node.Log();

  CommandOutput psql =
      Client(node, "psql",
             {"-X", "-A", "-t", "-c", "SELECT count(*) FROM t", node.env().at("POSTGRES_DB")});
  EXPECT_EQ(psql.exit_code, 0) << psql.output;
  EXPECT_EQ(psql.output, "1\n");
  ASSERT_TRUE(WaitAsleep(node)) << node.Log();

  const std::string script = node.dir() + "/select.sql";
  WriteFileOrDie(script, "SELECT count(*) FROM t;\n");
  CommandOutput bench = Client(
      node, "pgbench", {"-n", "-c", "4", "-t", "25", "-f", script, node.env().at("POSTGRES_DB")});
  EXPECT_EQ(bench.exit_code, 0) << bench.output;
  EXPECT_NE(bench.output.find("number of transactions actually processed: 100/100"),
            std::string::npos)
      << bench.output;
  json s = Sleep(node);
  EXPECT_EQ(s["wakes"], 3) << s.dump();
  EXPECT_EQ(s["clientsRefused"], 0) << s.dump();
  EXPECT_EQ(s["recentWakes"].size(), 3u) << s.dump();
  EXPECT_GT(s["recentWakes"][0]["clientWaitSeconds"].get<double>(), 0) << s.dump();
  EXPECT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
}

TEST(Sleep, FiftyClientsArrivingDuringOneWakeAreAllServedByOneStart) {
  PgrtNode node(SleepEnv());
  ASSERT_NO_FATAL_FAILURE(StartAsleep(node));
  const uint64_t before = Wakes(node);
  std::atomic<int> served{0};
  std::vector<std::string> errors(50);
  std::vector<std::thread> clients;
  for (int i = 0; i < 50; ++i)
    clients.emplace_back([&, i] {
      // One start serves them all, however long it takes: fifty SCRAM logins and a wake on a
      // loaded 2-core machine took more than the harness's 5 s.
      ConnParams params = node.Conn();
      params["connect_timeout"] = "30";
      auto conn = PgConn::Connect(params);
      if (!conn.ok()) {
        errors[i] = conn.status().message();
        return;
      }
      auto r = conn->Exec("INSERT INTO t VALUES (" + std::to_string(i) + ")");
      if (r.ok())
        ++served;
      else
        errors[i] = r.status().message();
    });
  for (auto& t : clients) t.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(served.load(), 50);
  EXPECT_EQ(node.Query("SELECT count(*) FROM t"), "50");
  EXPECT_EQ(Wakes(node), before + 1) << "one start for all of them";
}

TEST(Sleep, TlsAndScramPassThroughTheHeldConnectionEndToEnd) {
  PgrtNode node(SleepEnv());
  ASSERT_NO_FATAL_FAILURE(MakeCertificate(node));
  ASSERT_NO_FATAL_FAILURE(StartAsleep(node));
  ConnParams tls = node.Conn();
  tls["sslmode"] = "require";
  auto conn = PgConn::Connect(tls);
  ASSERT_TRUE(conn.ok()) << conn.status().message() << node.Log();
  auto ssl = conn->Exec("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
  ASSERT_TRUE(ssl.ok()) << ssl.status().message();
  EXPECT_EQ(ssl->Get(0, 0), "t") << "postgres itself terminated TLS";
  // The password was checked by SCRAM (the stored secret is a SCRAM one, and a wrong
  // password is refused through the door as well).
  auto secret =
      conn->Exec("SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = current_user");
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->Get(0, 0), "SCRAM-SHA-256$");
  ConnParams wrong = tls;
  wrong["password"] = "not-the-password";
  auto refused = PgConn::Connect(wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("password authentication failed"), std::string::npos)
      << refused.status().message();
}

TEST(Sleep, HealthChecksScrapesAndPgrtsOwnSessionsNeitherKeepItAwakeNorWakeIt) {
  PgrtNode node(SleepEnv());
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  // Polled all along: it still falls asleep after one idle second.
  std::atomic<bool> stop{false};
  std::thread poller([&] {
    for (int i = 0; i < 400 && !stop; ++i) {
      node.Get("/__opr/health");
      node.Get("/metrics");
      node.Get("/__opr/status");
      node.Get("/__opr/replication");
      std::this_thread::sleep_for(milliseconds(20));
    }
  });
  EXPECT_TRUE(WaitAsleep(node, milliseconds(8000))) << node.Log();
  const uint64_t wakes = Wakes(node);
  std::this_thread::sleep_for(milliseconds(1500));
  stop = true;
  poller.join();
  EXPECT_EQ(Wakes(node), wakes) << "polling never woke it";
  EXPECT_EQ(Sleep(node)["asleep"], true);
  // The metrics page says so.
  const std::string metrics = node.Get("/metrics").body;
  EXPECT_NE(metrics.find("pgrt_sleep_asleep 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("pgrt_wake_duration_seconds_bucket{le=\"+Inf\"}"), std::string::npos);
}

TEST(Sleep, AnOpenSessionEvenIdleInTransactionKeepsItAwake) {
  PgrtNode node(SleepEnv());
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  {
    auto conn = PgConn::Connect(node.Conn());
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    ASSERT_TRUE(conn->Exec("BEGIN").ok());
    ASSERT_TRUE(conn->Exec("SELECT 1").ok());
    std::this_thread::sleep_for(milliseconds(3500));  // three and a half idle timeouts
    EXPECT_EQ(Sleep(node)["asleep"], false);
    EXPECT_EQ(Sleep(node)["clientSessions"], 1);
    EXPECT_TRUE(conn->Exec("COMMIT").ok()) << "the session survived";
  }
  EXPECT_TRUE(WaitAsleep(node, milliseconds(8000))) << "asleep once it closed\n" << node.Log();
}

TEST(Sleep, AWakeThatCannotStartPostgresGivesHeldClientsAPostgresErrorAndTheNextOneWakesIt) {
  Env env = SleepEnv();
  env["PGRT_WAKE_TIMEOUT"] = "2";
  env["PGRT_RESTART_MAX"] = "2";  // gives the wake up soon
  PgrtNode node(env);
  ASSERT_NO_FATAL_FAILURE(StartAsleep(node));
  // postgres refuses to start with this setting (a bad configuration while asleep).
  const std::string auto_conf = node.pgdata() + "/postgresql.auto.conf";
  const std::string good = ReadFileOrEmpty(auto_conf);
  WriteFileOrDie(auto_conf, good + "shared_buffers = 'not a size'\n");
  auto conn = PgConn::Connect(node.Conn());
  ASSERT_FALSE(conn.ok());
  // Given up before the wake timeout: the held client is told at once, and why.
  EXPECT_NE(conn.status().message().find("postgres did not wake: hibernated: postgres failed"),
            std::string::npos)
      << conn.status().message();
  EXPECT_EQ(Sleep(node)["clientsRefused"], 1);
  // The wake is given up, not pgrt: asleep again, serving, the reason in status.
  EXPECT_TRUE(WaitUntil([&] { return Status(node)["phase"] == "hibernated"; }, milliseconds(30000),
                        milliseconds(100)))
      << Status(node).dump() << node.Log();
  EXPECT_TRUE(node.running());
  EXPECT_NE(node.Log().find("asleep until the next wake"), std::string::npos) << node.Log();
  WriteFileOrDie(auto_conf, good);
  std::string error;
  EXPECT_TRUE(WaitUntil(
      [&] {
        error.clear();
        node.Query("SELECT 1", &error);
        return error.empty();
      },
      milliseconds(20000), milliseconds(200)))
      << error << node.Log();
}

TEST(Sleep, HibernateAndWakeManyTimesKeepEveryRow) {
  const char* n = std::getenv("PGRT_SLEEP_CYCLES");
  const int cycles = n != nullptr ? std::atoi(n) : 20;
  PgrtNode node(SleepEnv(3600));  // never idle long enough: the API puts it to sleep
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  std::string error;
  node.Query("CREATE TABLE t (i int)", &error);
  ASSERT_EQ(error, "");
  for (int i = 1; i <= cycles; ++i) {
    HttpResponse slept = HttpRequest(node.api_port(), "POST", "/__opr/hibernate", kToken);
    ASSERT_EQ(slept.status, 200) << slept.body << node.Log();
    ASSERT_EQ(Sleep(node)["asleep"], true);
    // The insert itself wakes it.
    node.Query("INSERT INTO t VALUES (" + std::to_string(i) + ")", &error);
    ASSERT_EQ(error, "") << "cycle " << i << "\n" << node.Log();
  }
  EXPECT_EQ(node.Query("SELECT count(DISTINCT i) FROM t"), std::to_string(cycles));
  EXPECT_EQ(Wakes(node), static_cast<uint64_t>(cycles));
  // Every sleep was a clean shutdown: no wake needed crash recovery.
  EXPECT_EQ(node.Log().find("database system was not properly shut down"), std::string::npos);
  EXPECT_EQ(node.Log().find("database system was interrupted"), std::string::npos);
}

}  // namespace pgrt::testing
