// The management API of a standalone node: health while starting and when ready, the
// status document, Patroni-style role checks, errors, and the CLI clients of the API.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <utility>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

using std::chrono::milliseconds;

// The environment `pgrt healthcheck` / `pgrt status` get inside the node's container.
Env ClientEnv(const PgrtNode& node) {
  return {{"PATH", "/usr/bin:/bin"},
          {"PGRT_API_ADDRESS", "127.0.0.1"},
          {"PGRT_API_PORT", std::to_string(node.api_port())}};
}

}  // namespace

TEST(Api, HealthSays503StartingUntilPostgresAcceptsQueriesThen200Ok) {
  PgrtNode node;
  // An init script that waits for a gate file holds the node in "starting" for as long as
  // the test needs, without a fixed sleep.
  const std::string gate = node.dir() + "/gate";
  std::filesystem::create_directory(node.dir() + "/initdb.d");
  WriteFileOrDie(node.dir() + "/initdb.d/01-gate.sh",
                 "#!/bin/sh\nfor i in $(seq 600); do [ -e '" + gate +
                     "' ] && exit 0; sleep 0.05; done\nexit 1\n",
                 0755);
  node.Start();

  HttpResponse starting;
  ASSERT_TRUE(WaitUntil(
      [&] {
        starting = node.Get("/__opr/health");
        return starting.status != 0 || !node.running();
      },
      milliseconds(10000), milliseconds(5)))
      << node.Log();
  EXPECT_EQ(starting.status, 503);
  EXPECT_EQ(starting.body, "PostgreSQL is starting");
  auto status = node.Get("/__opr/status");
  EXPECT_EQ(status.status, 200) << "the OpenRuntimes runtime's code: ready says the rest";
  auto j = nlohmann::json::parse(status.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << status.body;
  EXPECT_EQ(j["ready"], false);
  EXPECT_EQ(j["engine"], "postgres");
  EXPECT_EQ(node.Get("/readiness").status, 503);
  EXPECT_EQ(node.Get("/health").status, 503);
  EXPECT_EQ(node.Get("/liveness").status, 200) << "pgrt itself is alive while starting";
  auto hc = RunPgrt({"healthcheck"}, ClientEnv(node));
  EXPECT_EQ(hc.exit_code, 1) << hc.output;

  WriteFileOrDie(gate, "");
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  auto ok = node.Get("/__opr/health");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "OK");
}

TEST(Api, StatusReportsPostgresVersionUptimeConnectionsAndDataVolume) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  auto client = PgConn::Connect(node.Conn());  // one client connection at least
  ASSERT_TRUE(client.ok()) << client.status().message();
  auto version = client->Exec("SHOW server_version");
  ASSERT_TRUE(version.ok());

  auto res = node.Get("/__opr/status");
  EXPECT_EQ(res.status, 200);
  auto j = nlohmann::json::parse(res.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << res.body;
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["engine"], "postgres");
  // "15.18", the number alone; postgres's full string beside it.
  const std::string full = version->Get(0, 0);
  EXPECT_EQ(j["version"], full.substr(0, full.find(' ')));
  EXPECT_EQ(j["serverVersion"], full);
  ASSERT_TRUE(j["uptime"].is_number()) << res.body;
  EXPECT_GT(j["uptime"].get<double>(), 0.0);
  EXPECT_LT(j["uptime"].get<double>(), 60.0);
  ASSERT_TRUE(j["connections"]["current"].is_number_integer()) << res.body;
  EXPECT_GE(j["connections"]["current"].get<int>(), 1);
  EXPECT_EQ(j["connections"]["max"], 100);
  EXPECT_EQ(j["volumes"]["data"]["path"], node.pgdata());
  EXPECT_TRUE(j["volumes"]["data"]["size"].is_string()) << res.body;
  EXPECT_GT(j["volumes"]["data"]["sizeBytes"].get<double>(), 0);
  EXPECT_EQ(j["volumes"]["data"]["mounted"], true);
  EXPECT_EQ(j["replication"]["mode"], "standalone");
  EXPECT_EQ(j["replication"]["enabled"], false);

  // `pgrt status` prints the same document.
  auto cli = RunPgrt({"status"}, ClientEnv(node));
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  auto printed = nlohmann::json::parse(cli.output, nullptr, false);
  ASSERT_TRUE(printed.is_object()) << cli.output;
  EXPECT_EQ(printed["ready"], true);
  EXPECT_EQ(printed["engine"], "postgres");
  EXPECT_EQ(printed["version"], j["version"]);
}

TEST(Api, PatronisRoleChecksAnswerAStandaloneNodeAsTheLeaderForGetHeadAndOptions) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  // A standalone node is Patroni's leader: writable, no replica, no standby cluster.
  const std::pair<const char*, int> paths[] = {
      {"/health", 200},    {"/liveness", 200},       {"/readiness", 200},      {"/", 200},
      {"/primary", 200},   {"/master", 200},         {"/read-write", 200},     {"/leader", 200},
      {"/read-only", 200}, {"/read-only-sync", 200}, {"/standby-leader", 503}, {"/replica", 503},
      {"/sync", 503},      {"/async", 503}};
  for (const auto& [path, want] : paths) {
    for (const char* method : {"GET", "HEAD", "OPTIONS"}) {
      auto res = HttpRequest(node.api_port(), method, path);
      EXPECT_EQ(res.status, want) << method << " " << path << ": " << res.body;
      if (std::string(method) == "HEAD") {
        EXPECT_EQ(res.body, "") << path;
      }
    }
  }
  auto health = HttpRequest(node.api_port(), "HEAD", "/__opr/health");
  EXPECT_EQ(health.status, 200);
}

TEST(Api, UnknownPathsAre404WithAJsonError) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  for (const char* path : {"/no/such/path", "/__opr/nope", "/__opr/health/extra"}) {
    auto res = node.Get(path);
    EXPECT_EQ(res.status, 404) << path;
    auto j = nlohmann::json::parse(res.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << path << ": " << res.body;
    EXPECT_TRUE(j["error"].is_string()) << res.body;
  }
}

TEST(Api, HealthcheckCommandExits0WhenHealthyAnd1WhenTheNodeIsStopped) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  auto healthy = RunPgrt({"healthcheck"}, ClientEnv(node));
  EXPECT_EQ(healthy.exit_code, 0) << healthy.output;

  ASSERT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
  auto stopped = RunPgrt({"healthcheck"}, ClientEnv(node));
  EXPECT_EQ(stopped.exit_code, 1) << stopped.output;
  auto status = RunPgrt({"status"}, ClientEnv(node));
  EXPECT_EQ(status.exit_code, 1) << status.output;
}

}  // namespace pgrt::testing
