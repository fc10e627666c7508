// The API's views render from NodeState alone: no server, no postgres. What the status and
// replication views show for each phase and observation.
#include <gtest/gtest.h>

#include "api/replication_view.h"
#include "api/views.h"
#include "config_test_env.h"

namespace pgrt {
namespace {

class ApiViewsTest : public ::testing::Test {
 protected:
  ApiViewsTest()
      : config_(*LoadConfig(config_test::With({{"PGDATA", "/"},
                                               {"POSTGRES_REPLICATION_MODE", "primary"},
                                               {"POSTGRES_REPLICATION_PASSWORD", "rp-1"}}))) {}
  void SetUp() override {
    ASSERT_TRUE(loop_.Init().ok());
    state_.SetTopology(ConfiguredTopology(config_));  // what the node's Prepare does
  }

  ApiContext Context() { return ApiContext{config_, state_, timings_, probe_, control_, clock_}; }

  Observation Primary() {
    Observation o;
    o.role = PgRole::kPrimary;
    o.version = "15.18 (Debian 15.18-0+deb12u1)";
    o.started_epoch =
        std::chrono::duration<double>(clock_.WallNow().time_since_epoch()).count() - 60;
    o.connections = 4;
    o.max_connections = 100;
    o.current_lsn = "0/5000000";
    o.standbys = nlohmann::json::array({{{"applicationName", "r1"}}});
    return o;
  }

  Config config_;
  RealClock clock_;
  EventLoop loop_{clock_};
  NodeState state_;
  Timings timings_{clock_.Now()};
  LiveProbe probe_{loop_, {}};
  AsyncPgConn control_{loop_, {}};
};

TEST_F(ApiViewsTest, StatusWhileStartingIsNotReadyYetEveryRuntimeFieldHasItsType) {
  ApiContext ctx = Context();
  nlohmann::json j = StatusView(ctx);
  EXPECT_EQ(j["ready"], false);
  EXPECT_EQ(j["phase"], "starting");
  // The OpenRuntimes runtime's types hold before postgres answers too.
  EXPECT_TRUE(j["version"].is_string() && !j["version"].get<std::string>().empty()) << j;
  EXPECT_TRUE(j["uptime"].is_number()) << j;
  EXPECT_TRUE(j["connections"]["current"].is_number_integer()) << j;
  EXPECT_EQ(j["connections"]["current"], 0);
  EXPECT_TRUE(j["connections"]["max"].is_number_integer()) << j;
  EXPECT_EQ(j["replication"]["mode"], "primary");
  EXPECT_EQ(j["replication"]["enabled"], true);
  EXPECT_TRUE(j["transitions"].is_array());
}

TEST_F(ApiViewsTest, StatusWhenReadyShowsTheObservation) {
  state_.SetPhase(NodePhase::kReady);
  state_.SetObservation(Primary());
  ApiContext ctx = Context();
  nlohmann::json j = StatusView(ctx);
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["version"], "15.18");
  EXPECT_EQ(j["serverVersion"], "15.18 (Debian 15.18-0+deb12u1)");
  // uptime is pgrt's own (the runtime's process); postgres's is beside it.
  EXPECT_GE(j["uptime"].get<double>(), 0);
  EXPECT_LT(j["uptime"].get<double>(), 30);
  EXPECT_NEAR(j["postgresUptime"].get<double>(), 60, 5);
  EXPECT_EQ(j["connections"]["current"], 4);
  EXPECT_EQ(j["connections"]["max"], 100);
  // The very object /__opr/replication gives.
  EXPECT_EQ(j["replication"], *ReplicationView(ctx));
  EXPECT_EQ(j["replication"]["role"], "primary");
  EXPECT_EQ(j["replication"]["connectedStandbys"], 1);
}

TEST_F(ApiViewsTest, VolumesAreDfHStringsWithMountedAndTheBytesBeside) {
  nlohmann::json v = VolumeView("/");
  EXPECT_EQ(v["path"], "/");
  EXPECT_EQ(v["mounted"], true);
  for (const char* field : {"size", "used", "available", "usePercent"})
    EXPECT_TRUE(v[field].is_string()) << field << " " << v;
  EXPECT_EQ(v["size"], HumanSize(v["sizeBytes"].get<uint64_t>()));
  EXPECT_EQ(v["usePercent"],
            HumanPercent(v["usedBytes"].get<uint64_t>(), v["availableBytes"].get<uint64_t>()));
  nlohmann::json missing = VolumeView("/nonexistent-pgrt-volume");
  EXPECT_EQ(missing, nlohmann::json({{"path", "/nonexistent-pgrt-volume"}, {"mounted", false}}));
  ApiContext ctx = Context();
  nlohmann::json volumes = StatusView(ctx)["volumes"];
  EXPECT_EQ(volumes["data"]["path"], "/");
  EXPECT_TRUE(volumes["backups"].contains("path") && volumes["backups"].contains("mounted"));
}

TEST(HumanSize, RendersBytesAsDfHDoes) {
  // Each expected value is what `numfmt --to=iec --round=up` and df -h print.
  const std::pair<uint64_t, const char*> cases[] = {{0, "0"},
                                                    {512, "512"},
                                                    {1023, "1023"},
                                                    {1024, "1.0K"},
                                                    {1025, "1.1K"},
                                                    {4096, "4.0K"},
                                                    {10239, "10K"},
                                                    {10240, "10K"},
                                                    {10241, "11K"},
                                                    {1048575, "1.0M"},
                                                    {1048576, "1.0M"},
                                                    {5368709120, "5.0G"},
                                                    {10737418240, "10G"},
                                                    {1099511627776, "1.0T"},
                                                    {1125899906842623, "1.0P"}};
  for (const auto& [bytes, text] : cases) EXPECT_EQ(HumanSize(bytes), text) << bytes;
}

TEST(HumanPercent, RoundsUpAsDfDoes) {
  EXPECT_EQ(HumanPercent(0, 100), "0%");
  EXPECT_EQ(HumanPercent(1, 99), "1%");
  EXPECT_EQ(HumanPercent(251, 749), "26%");
  EXPECT_EQ(HumanPercent(100, 0), "100%");
  EXPECT_EQ(HumanPercent(0, 0), "-");
  EXPECT_EQ(HumanPercent(UINT64_MAX / 2, UINT64_MAX / 2), "50%");
}

TEST_F(ApiViewsTest, StatusWhenPostgresCannotBeReachedSaysSo) {
  state_.SetPhase(NodePhase::kReady);
  Observation unreachable;
  unreachable.error = "connect: no answer in time";
  state_.SetObservation(unreachable);
  ApiContext ctx = Context();
  nlohmann::json j = StatusView(ctx);
  EXPECT_EQ(j["ready"], false);
  EXPECT_EQ(j["error"], "Database unavailable");
}

TEST_F(ApiViewsTest, StatusCarriesTheControllersMoves) {
  state_.SetTransitions({{SystemTime(std::chrono::seconds(1700000000)), "running", "hibernating",
                          "hibernate requested through the API"}});
  ApiContext ctx = Context();
  nlohmann::json j = StatusView(ctx);
  ASSERT_EQ(j["transitions"].size(), 1u);
  EXPECT_EQ(j["transitions"][0]["from"], "running");
  EXPECT_EQ(j["transitions"][0]["to"], "hibernating");
  EXPECT_EQ(j["transitions"][0]["at"], "2023-11-14T22:13:20Z");
}

TEST_F(ApiViewsTest, ReplicationOfAPrimaryListsItsStandbysFromTheObservation) {
  state_.SetPhase(NodePhase::kReady);
  state_.SetObservation(Primary());
  ApiContext ctx = Context();
  auto j = ReplicationView(ctx);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["role"], "primary");
  EXPECT_EQ((*j)["currentLsn"], "0/5000000");
  EXPECT_EQ((*j)["connectedStandbys"], 1);
  EXPECT_EQ((*j)["standbys"][0]["applicationName"], "r1");
}

TEST_F(ApiViewsTest, ReplicationShowsTheRoleAndUpstreamTheNodeHasNowNotTheConfigured) {
  state_.SetPhase(NodePhase::kReady);
  state_.SetTopology(ReplicaOf({"db-b", 5433, "slot_b"}));
  Observation o;
  o.role = PgRole::kReplica;
  state_.SetObservation(o);
  ApiContext ctx = Context();
  auto j = ReplicationView(ctx);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["mode"], "replica");
  EXPECT_EQ((*j)["primaryHost"], "db-b");
  EXPECT_EQ((*j)["primaryPort"], 5433);
  EXPECT_EQ((*j)["slotName"], "slot_b");
  EXPECT_EQ(StatusView(ctx)["replication"]["mode"], "replica");
  // No WAL receiver process: null, as the runtime answers; pgrt's status word beside it.
  EXPECT_TRUE((*j)["walReceiver"].is_null()) << *j;
  EXPECT_EQ((*j)["walReceiverStatus"], "stopped");
  o.wal_receiver = {{"pid", 77}, {"status", "streaming"}, {"senderPort", 5433}};
  state_.SetObservation(o);
  EXPECT_EQ((*ReplicationView(ctx))["walReceiver"]["pid"], 77);
}

TEST_F(ApiViewsTest, ReplicationIsUnavailableWhileNotReadyOrUnreachable) {
  ApiContext ctx = Context();
  EXPECT_FALSE(ReplicationView(ctx).has_value());
  state_.SetPhase(NodePhase::kReady);
  EXPECT_FALSE(ReplicationView(ctx).has_value()) << "no observation yet";
}

}  // namespace
}  // namespace pgrt
