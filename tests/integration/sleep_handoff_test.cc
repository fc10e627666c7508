// Scale to zero with the handoff: postgres shares the client port with pgrt (SO_REUSEPORT,
// steered by a BPF program), so while it is awake clients connect to it directly and pgrt
// relays nothing; while it sleeps they reach pgrt, which wakes it. Without the shim the node
// relays every client, as before.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness/harness.h"
#include "sleep_helpers.h"

namespace pgrt::testing {
namespace {

using std::chrono::milliseconds;
using json = nlohmann::json;
using scale_to_zero::Sleep;
using scale_to_zero::WaitAsleep;
using scale_to_zero::Wakes;
constexpr const char* kToken = "sleep-handoff-token";

Env SleepEnv(int idle_seconds) {
  return {{"PGRT_IDLE_TIMEOUT", std::to_string(idle_seconds)},
          {"PGRT_API_TOKEN", kToken},
          {"PGRT_RESTART_MAX", "100"}};
}

uint64_t Accepted(const PgrtNode& node) {
  return Sleep(node).value("clientsAccepted", uint64_t{0});
}

// psql over TCP to the client port, one query; its output ("" and the error on failure).
CommandOutput Psql(const PgrtNode& node, const std::string& sql) {
  return RunCommand({PgBinDir() + "/psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p",
                     std::to_string(node.pg_port()), "-U", node.env().at("POSTGRES_USER"), "-c",
                     sql, node.env().at("POSTGRES_DB")},
                    {{"PATH", "/usr/bin:/bin"}, {"PGPASSWORD", node.password()}});
}

// Whether `pid` has exited (gone, or a zombie not reaped yet): its sockets are closed.
bool Exited(pid_t pid) {
  std::string stat = ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return stat.empty() || (paren != std::string::npos && paren + 2 < stat.size() &&
                          (stat[paren + 2] == 'Z' || stat[paren + 2] == 'X'));
}

bool Hibernate(const PgrtNode& node) {
  return HttpRequest(node.api_port(), "POST", "/__opr/hibernate", kToken).status == 200;
}

}  // namespace

TEST(SleepHandoff, ClientsConnectStraightToPostgresWhileItIsAwake) {
  PgrtNode node(SleepEnv(3600));
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(Sleep(node)["handoff"], true) << node.Log();
  const uint64_t before = Accepted(node);
  for (int i = 0; i < 20; ++i) {
    CommandOutput out = Psql(node, "SELECT 1");
    ASSERT_EQ(out.exit_code, 0) << out.output << node.Log();
    EXPECT_EQ(out.output, "1\n");
  }
  EXPECT_EQ(Accepted(node), before) << "pgrt accepted none of the 20 connections";
  // postgres sees the client's own address: nothing stands between them.
  auto conn = PgConn::Connect(node.Conn());
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  auto peer = conn->Exec(
      "SELECT client_port = inet_client_port(), backend_type FROM pg_stat_activity "
      "WHERE pid = pg_backend_pid()");
  ASSERT_TRUE(peer.ok()) << peer.status().message();
  EXPECT_EQ(peer->Get(0, 1), "client backend");
  EXPECT_EQ(Accepted(node), before);
}

TEST(SleepHandoff, EveryListenAddressIsSharedIPv6Included) {
  Env env = SleepEnv(3600);
  env["POSTGRES_LISTEN_ADDRESSES"] = "127.0.0.1,::1";
  PgrtNode node(env);
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_EQ(Sleep(node)["handoff"], true) << node.Log();
  for (const char* host : {"127.0.0.1", "::1"}) {
    SCOPED_TRACE(host);
    ConnParams p = node.Conn();
    p["host"] = host;
    for (int round = 0; round < 2; ++round) {  // awake (direct), then after a hibernate
      const uint64_t accepted = Accepted(node);
      {
        auto conn = PgConn::Connect(p);
        ASSERT_TRUE(conn.ok()) << conn.status().message() << node.Log();
        EXPECT_EQ(Accepted(node), accepted + (round == 0 ? 0 : 1));
      }
      if (round == 0) {
        ASSERT_TRUE(Hibernate(node)) << node.Log();
      }
    }
  }
}

TEST(SleepHandoff, AfterAHibernateTheNextClientReachesPgrtWakesPostgresAndLaterOnesGoDirect) {
  PgrtNode node(SleepEnv(3600));
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  for (int cycle = 1; cycle <= 3; ++cycle) {
    SCOPED_TRACE(cycle);
    ASSERT_TRUE(Hibernate(node)) << node.Log();
    ASSERT_EQ(Sleep(node)["asleep"], true);
    const uint64_t accepted = Accepted(node);
    const uint64_t wakes = Wakes(node);
    CommandOutput first = Psql(node, "SELECT 42");  // no retry: the first attempt succeeds
    ASSERT_EQ(first.exit_code, 0) << first.output << node.Log();
    EXPECT_EQ(first.output, "42\n");
    EXPECT_EQ(Accepted(node), accepted + 1) << "the client while asleep waited at pgrt";
    EXPECT_EQ(Wakes(node), wakes + 1);
    for (int i = 0; i < 5; ++i) ASSERT_EQ(Psql(node, "SELECT 1").exit_code, 0);
    EXPECT_EQ(Accepted(node), accepted + 1) << "awake again: straight to postgres";
  }
}

TEST(SleepHandoff, DirectSessionsKeepItAwakeWhileHealthChecksAndScrapesDoNot) {
  PgrtNode node(SleepEnv(1));
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  {
    auto conn = PgConn::Connect(node.Conn());
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    ASSERT_TRUE(conn->Exec("BEGIN").ok());
    ASSERT_TRUE(conn->Exec("SELECT 1").ok());
    for (int i = 0; i < 15; ++i) {  // three idle timeouts, polled all along
      node.Get("/__opr/health");
      node.Get("/metrics");
      std::this_thread::sleep_for(milliseconds(200));
    }
    json s = Sleep(node);
    EXPECT_EQ(s["asleep"], false) << s.dump();
    // Direct, or relayed if it came as the node fell asleep: counted once either way.
    EXPECT_EQ(s["clientSessions"], 1) << s.dump();
    EXPECT_TRUE(conn->Exec("COMMIT").ok()) << "the session survived";
  }
  EXPECT_TRUE(WaitAsleep(node, milliseconds(8000))) << "asleep once it closed\n" << node.Log();
}

TEST(SleepHandoff, APostgresKilledWhileAwakeLeavesTheNextClientALiveSocket) {
  PgrtNode node(SleepEnv(3600));
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  for (int round = 1; round <= 3; ++round) {
    SCOPED_TRACE(round);
    const pid_t postmaster = node.PostmasterPid();
    ASSERT_GT(postmaster, 0);
    ASSERT_EQ(::kill(postmaster, SIGKILL), 0);
    // Connections already queued at the dying postmaster end with it (as without pgrt); the
    // next one, as soon as it is gone, must find pgrt's socket.
    ASSERT_TRUE(WaitUntil([&] { return Exited(postmaster); }, milliseconds(5000), milliseconds(1)));
    // At once, no retry: the client waits at pgrt until postgres is back.
    auto conn = PgConn::Connect(node.Conn());
    ASSERT_TRUE(conn.ok()) << conn.status().message() << node.Log();
    auto r = conn->Exec("SELECT 7");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->Get(0, 0), "7");
    EXPECT_NE(node.PostmasterPid(), postmaster);
  }
  EXPECT_EQ(Sleep(node)["clientsRefused"], 0);
}

TEST(SleepHandoff, WithoutTheShimEveryClientIsRelayedAndStillServed) {
  PgrtNode node(SleepEnv(3600));
  // A copy of pgrt with no lib/pgrt/ beside it: the shim is missing.
  const std::string bin = node.dir() + "/bin";
  std::filesystem::create_directories(bin);
  std::filesystem::copy_file(PgrtBinary(), bin + "/pgrt");
  node.set_launcher({"/bin/sh", "-c", "shift; exec " + bin + "/pgrt \"$@\"", "sh"});
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(Sleep(node)["handoff"], false);
  EXPECT_NE(node.Log().find("cannot be shared with postgres"), std::string::npos) << node.Log();
  const uint64_t before = Accepted(node);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Psql(node, "SELECT 1").exit_code, 0) << node.Log();
  EXPECT_EQ(Accepted(node), before + 3) << "relayed";
  ASSERT_TRUE(Hibernate(node)) << node.Log();
  CommandOutput woke = Psql(node, "SELECT 3");
  EXPECT_EQ(woke.exit_code, 0) << woke.output << node.Log();
  EXPECT_EQ(woke.output, "3\n");
}

}  // namespace pgrt::testing
