// The OpenRuntimes PostgreSQL runtime's own expectations, held against real pgrt nodes: what
// its PHPUnit suite (tests/Database.php, tests/Database/Postgres.php) asserts of
// /__opr/health, /__opr/status and /__opr/timings, and the paths, codes, texts, field names
// and JSON types its management server (runtimes/postgres/versions/17/src/server.js) gives
// for replication. Where pgrt deliberately differs, docs/compatibility.md says so; those
// differences are asserted here as pgrt's contract too.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <ctime>
#include <regex>
#include <set>
#include <string>

#include "integration/replication_helpers.h"

namespace pgrt::testing::repl {
namespace {

constexpr int kMaxConnections = 57;

json Status(const PgrtNode& node) {
  return GetJson(node.api_port(), "/__opr/status").value_or(json());
}

// A node-postgres timestamp in JSON: Date.toISOString().
bool IsIsoUtc(const json& v) {
  static const std::regex iso(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)");
  return v.is_string() && std::regex_match(v.get<std::string>(), iso);
}

// Seconds since the epoch of an IsIsoUtc string.
double IsoEpoch(const std::string& s) {
  std::tm tm{};
  strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  return static_cast<double>(timegm(&tm)) + std::stoi(s.substr(20, 3)) / 1000.0;
}

bool IsStringOrNull(const json& v) { return v.is_string() || v.is_null(); }
bool IsIntOrNull(const json& v) { return v.is_number_integer() || v.is_null(); }

// Field names of an object, and of the first element of its arrays of objects.
std::set<std::string> Shape(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) {
    out.insert(k);
    if (v.is_array() && !v.empty() && v[0].is_object())
      for (const auto& [k2, v2] : v[0].items()) out.insert(k + "[]." + k2);
    if (v.is_object())
      for (const auto& [k2, v2] : v.items()) out.insert(k + "." + k2);
  }
  return out;
}

// tests/Database.php's assertions on /__opr/status, for any node kind.
void ExpectRuntimeStatus(const json& body) {
  for (const char* key : {"ready", "engine", "version", "uptime", "connections"})
    EXPECT_TRUE(body.contains(key)) << key << " " << body.dump();
  EXPECT_TRUE(body["ready"].is_boolean()) << body.dump();
  EXPECT_EQ(body["ready"], true) << body.dump();
  EXPECT_EQ(body["engine"], "postgres");  // testDatabaseEngineIdentification
  ASSERT_TRUE(body["version"].is_string()) << body.dump();
  // testVersionFormat
  EXPECT_TRUE(
      std::regex_match(body["version"].get<std::string>(), std::regex(R"(^[\d.\-a-zA-Z]+$)")))
      << body["version"];
  ASSERT_TRUE(body["uptime"].is_number()) << body.dump();
  EXPECT_GT(body["uptime"].get<double>(), 0);
  ASSERT_TRUE(body["connections"].is_object()) << body.dump();
  ASSERT_TRUE(body["connections"]["current"].is_number_integer()) << body.dump();
  ASSERT_TRUE(body["connections"]["max"].is_number_integer()) << body.dump();
  EXPECT_GE(body["connections"]["current"].get<int>(), 0);
  EXPECT_GT(body["connections"]["max"].get<int>(), 0);
  EXPECT_LE(body["connections"]["current"].get<int>(), body["connections"]["max"].get<int>());
}

// server.js's volumes entry: df -h's columns as strings, and mounted.
void ExpectDfVolume(const json& v, const std::string& path) {
  EXPECT_EQ(v["path"], path) << v.dump();
  ASSERT_EQ(v["mounted"], true) << v.dump();
  for (const char* field : {"size", "used", "available"})
    EXPECT_TRUE(v[field].is_string() && std::regex_match(v[field].get<std::string>(),
                                                         std::regex(R"(^\d+(\.\d)?[KMGTPE]?$)")))
        << field << " " << v.dump();
  EXPECT_TRUE(v["usePercent"].is_string() &&
              std::regex_match(v["usePercent"].get<std::string>(), std::regex(R"(^\d+%$)")))
      << v.dump();
  // The size is what df -h itself prints for the same file system.
  CommandOutput df =
      RunCommand({"/usr/bin/df", "-h", "--output=size", path}, {{"PATH", "/usr/bin:/bin"}});
  ASSERT_EQ(df.exit_code, 0) << df.output;
  std::string size = df.output.substr(df.output.find('\n') + 1);
  size.erase(0, size.find_first_not_of(' '));
  size.erase(size.find_last_not_of(" \n") + 1);
  EXPECT_EQ(v["size"], size) << df.output;
}

}  // namespace

TEST(OpenRuntimesCompat, AStandaloneNodePassesTheRuntimesHealthStatusAndTimingsSuite) {
  PgrtNode node(Env{{"PGRT_API_TOKEN", kApiToken},
                    {"POSTGRES_MAX_CONNECTIONS", std::to_string(kMaxConnections)}});
  ASSERT_NO_FATAL_FAILURE(StartHealthy(node));

  // testHealthCheck, testHealthCheckConsistency, testConcurrentHealthChecks
  for (int i = 0; i < 10; ++i) {
    HttpResponse h = node.Get("/__opr/health");
    EXPECT_EQ(h.status, 200) << i;
    EXPECT_EQ(h.body, "OK") << i;
  }

  // testStatusEndpoint, testStatusEndpointStructure, testConnectionCountAccuracy
  int code = 0;
  json status = GetJson(node.api_port(), "/__opr/status", &code).value_or(json());
  EXPECT_EQ(code, 200);
  ExpectRuntimeStatus(status);
  // testPostgresConnectionLimits: the configured POSTGRES_MAX_CONNECTIONS.
  EXPECT_EQ(status["connections"]["max"], kMaxConnections);
  // testPostgresSystemInformation: SHOW server_version names the same version.
  std::string server_version = node.Query("SHOW server_version");
  EXPECT_EQ(server_version.rfind(status["version"].get<std::string>(), 0), 0u) << server_version;
  EXPECT_EQ(status["serverVersion"], server_version);
  // server.js: volumes.data and volumes.backups; a standalone's replication is {mode}.
  ExpectDfVolume(status["volumes"]["data"], node.pgdata());
  EXPECT_TRUE(status["volumes"]["backups"]["path"].is_string()) << status.dump();
  EXPECT_TRUE(status["volumes"]["backups"]["mounted"].is_boolean()) << status.dump();
  EXPECT_EQ(status["replication"]["mode"], "standalone") << status.dump();
  json replication = Replication(node);
  EXPECT_EQ(replication, json({{"mode", "standalone"}, {"enabled", false}}));

  // testStatusUptimeProgression
  double before = status["uptime"].get<double>();
  std::this_thread::sleep_for(milliseconds(2100));
  double after = Status(node)["uptime"].get<double>();
  EXPECT_GE(after - before, 2.0);

  // testTelemetryEndpoint, testTelemetryDataFormat, testTimings
  httplib::Client cli("127.0.0.1", node.api_port());
  httplib::Result timings = cli.Get("/__opr/timings");
  ASSERT_TRUE(timings);
  EXPECT_EQ(timings->status, 200);
  EXPECT_EQ(timings->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  std::map<std::string, std::string> lines;
  std::istringstream in(timings->body);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    size_t eq = line.find('=');
    ASSERT_NE(eq, std::string::npos) << "Invalid timing format: " << line;
    lines[line.substr(0, eq)] = line.substr(eq + 1);
  }
  ASSERT_TRUE(lines.count("startup")) << timings->body;
  EXPECT_GT(std::stod(lines["startup"]), 0);
  EXPECT_LT(std::stod(lines["startup"]), 30.0);  // testPostgresStartupPerformance

  // testEndpointResponseTimes, testManagementAPIStability
  for (int i = 0; i < 20; ++i)
    for (const char* path : {"/__opr/health", "/__opr/status", "/__opr/timings"}) {
      auto start = std::chrono::steady_clock::now();
      EXPECT_EQ(node.Get(path).status, 200) << path;
      EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1)) << path;
    }
  // testInvalidEndpoint
  EXPECT_NE(node.Get("/__opr/invalid").status, 200);

  // server.js's role rules, with pgrt's token: a standalone has no slots and no replay.
  for (const char* method : {"POST", "DELETE"}) {
    JsonResponse r = Call(node, method, "/__opr/replication/slot/some_slot");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, json({{"error", "Only available on primary"}})) << method;
  }
  for (const char* verb : {"promote", "pause", "resume"}) {
    JsonResponse r = Call(node, "POST", std::string("/__opr/replication/") + verb);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, json({{"error", "Only available on replica"}})) << verb;
  }
}

TEST(OpenRuntimesCompat, APrimaryAndAReplicaAnswerTheRuntimesReplicationFieldsAndTexts) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica));
  primary->Query("INSERT INTO t VALUES ('replayed')");
  ASSERT_TRUE(WaitForValue(*replica, "SELECT count(*) FROM t", "1")) << replica->Log();
  // The standby's first feedback message carries reply_time.
  ASSERT_TRUE(WaitUntil(
      [&] {
        json r = Replication(*primary);
        return r["standbys"].size() == 1 && IsIsoUtc(r["standbys"][0]["replyTime"]);
      },
      milliseconds(15000)))
      << Replication(*primary).dump();

  // The primary: getReplicationStatus() under /__opr/replication's own fields.
  json p = Replication(*primary);
  EXPECT_EQ(p["mode"], "primary");
  EXPECT_EQ(p["enabled"], true);
  EXPECT_TRUE(p["walLevel"].is_string()) << p.dump();
  EXPECT_TRUE(p["maxWalSenders"].is_number_integer()) << p.dump();
  EXPECT_TRUE(p["maxReplicationSlots"].is_number_integer()) << p.dump();
  EXPECT_EQ(p["role"], "primary");
  EXPECT_TRUE(p["currentLsn"].is_string()) << p.dump();
  EXPECT_EQ(p["connectedStandbys"], 1);
  ASSERT_EQ(p["standbys"].size(), 1u) << p.dump();
  const json& s = p["standbys"][0];
  EXPECT_EQ(s["clientAddr"], "127.0.0.1") << s.dump();
  EXPECT_TRUE(IsStringOrNull(s["clientHostname"])) << s.dump();
  EXPECT_TRUE(s["clientPort"].is_number_integer()) << s.dump();
  EXPECT_EQ(s["state"], "streaming") << s.dump();
  for (const char* lsn : {"sentLsn", "writeLsn", "flushLsn", "replayLsn"})
    EXPECT_TRUE(s[lsn].is_string()) << lsn << " " << s.dump();
  EXPECT_TRUE(s["syncState"].is_string()) << s.dump();
  EXPECT_TRUE(s["syncPriority"].is_number_integer()) << s.dump();
  EXPECT_TRUE(IsIsoUtc(s["replyTime"])) << s.dump();
  // The client port is the replica's WAL sender connection, as postgres lists it.
  EXPECT_EQ(std::to_string(s["clientPort"].get<int>()),
            primary->Query("SELECT client_port FROM pg_stat_replication"));
  ASSERT_EQ(p["replicationSlots"].size(), 1u) << p.dump();
  const json& slot = p["replicationSlots"][0];
  EXPECT_EQ(slot["slotName"], "replica_slot");
  EXPECT_EQ(slot["slotType"], "physical");
  EXPECT_TRUE(slot.contains("database") && slot["database"].is_null()) << slot.dump();
  EXPECT_EQ(slot["active"], true);
  EXPECT_TRUE(IsIntOrNull(slot["activePid"])) << slot.dump();
  EXPECT_TRUE(IsStringOrNull(slot["restartLsn"])) << slot.dump();
  // /__opr/status carries the same object.
  json ps = Status(*primary);
  ExpectRuntimeStatus(ps);
  EXPECT_EQ(Shape(ps["replication"]), Shape(p)) << ps["replication"].dump() << "\n" << p.dump();
  EXPECT_EQ(ps["replication"]["role"], "primary");

  // The replica, once its view (observed every second) shows the replayed commit.
  ASSERT_TRUE(WaitUntil([&] { return IsIsoUtc(Replication(*replica)["lastReplayTimestamp"]); },
                        milliseconds(10000)))
      << Replication(*replica).dump();
  json r = Replication(*replica);
  EXPECT_EQ(r["mode"], "replica");
  EXPECT_EQ(r["enabled"], true);
  EXPECT_EQ(r["role"], "replica");
  EXPECT_EQ(r["inRecovery"], true);
  EXPECT_TRUE(r["receiveLsn"].is_string()) << r.dump();
  EXPECT_TRUE(r["replayLsn"].is_string()) << r.dump();
  ASSERT_TRUE(IsIsoUtc(r["lastReplayTimestamp"])) << r.dump();
  // The same instant postgres holds, in UTC, to the millisecond (truncated).
  double epoch =
      std::stod(replica->Query("SELECT extract(epoch FROM pg_last_xact_replay_timestamp())"));
  EXPECT_NEAR(IsoEpoch(r["lastReplayTimestamp"]), epoch, 0.001) << r.dump();
  EXPECT_LE(IsoEpoch(r["lastReplayTimestamp"]), epoch);
  EXPECT_TRUE(r["lagSeconds"].is_number() || r["lagSeconds"].is_null()) << r.dump();
  const json& w = r["walReceiver"];
  ASSERT_TRUE(w.is_object()) << r.dump();
  EXPECT_TRUE(w["pid"].is_number_integer()) << w.dump();
  EXPECT_EQ(w["status"], "streaming") << w.dump();
  EXPECT_TRUE(w["receivedLsn"].is_string()) << w.dump();
  EXPECT_TRUE(IsIsoUtc(w["lastMsgSendTime"])) << w.dump();
  EXPECT_TRUE(IsIsoUtc(w["lastMsgReceiptTime"])) << w.dump();
  EXPECT_EQ(w["senderHost"], "127.0.0.1") << w.dump();
  EXPECT_EQ(w["senderPort"], primary->pg_port()) << w.dump();
  json rs = Status(*replica);
  ExpectRuntimeStatus(rs);
  EXPECT_EQ(Shape(rs["replication"]), Shape(r)) << rs["replication"].dump() << "\n" << r.dump();

  // Slots: server.js's codes and texts.
  JsonResponse created = Call(*primary, "POST", "/__opr/replication/slot/opr_slot");
  EXPECT_EQ(created.status, 200);
  EXPECT_EQ(created.body["success"], true) << created.body.dump();
  EXPECT_EQ(created.body["message"], "Replication slot 'opr_slot' created");
  JsonResponse invalid = Call(*primary, "POST", "/__opr/replication/slot/Opr-Slot");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(invalid.body,
            json({{"error", "Invalid slot name (use lowercase letters, numbers, underscores)"}}));
  JsonResponse on_replica = Call(*replica, "POST", "/__opr/replication/slot/opr_slot2");
  EXPECT_EQ(on_replica.status, 400);
  EXPECT_EQ(on_replica.body, json({{"error", "Only available on primary"}}));
  JsonResponse dropped = Call(*primary, "DELETE", "/__opr/replication/slot/opr_slot");
  EXPECT_EQ(dropped.status, 200);
  EXPECT_EQ(dropped.body["success"], true) << dropped.body.dump();
  EXPECT_EQ(dropped.body["message"], "Replication slot 'opr_slot' dropped");

  // Replay control on the replica; refused on the primary.
  JsonResponse paused = Call(*replica, "POST", "/__opr/replication/pause");
  EXPECT_EQ(paused.status, 200);
  EXPECT_EQ(paused.body["success"], true);
  EXPECT_EQ(paused.body["message"], "WAL replay paused");
  JsonResponse resumed = Call(*replica, "POST", "/__opr/replication/resume");
  EXPECT_EQ(resumed.status, 200);
  EXPECT_EQ(resumed.body["message"], "WAL replay resumed");
  for (const char* verb : {"promote", "pause", "resume"}) {
    JsonResponse refused = Call(*primary, "POST", std::string("/__opr/replication/") + verb);
    EXPECT_EQ(refused.status, 400) << verb;
    EXPECT_EQ(refused.body, json({{"error", "Only available on replica"}})) << verb;
  }

  // Promotion.
  JsonResponse promoted = Call(*replica, "POST", "/__opr/replication/promote");
  ASSERT_EQ(promoted.status, 200) << promoted.body.dump() << replica->Log();
  EXPECT_EQ(promoted.body["success"], true);
  EXPECT_EQ(promoted.body["message"], "Promotion initiated. Server will become primary.");
  EXPECT_EQ(replica->Query("SELECT pg_is_in_recovery()"), "f");
}

}  // namespace pgrt::testing::repl
