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
    o.version = "15.18";
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

TEST_F(ApiViewsTest, StatusWhileStartingIsNotReadyAndSaysThePhase) {
  ApiContext ctx = Context();
  nlohmann::json j = StatusView(ctx);
  EXPECT_EQ(j["ready"], false);
  EXPECT_EQ(j["phase"], "starting");
  EXPECT_TRUE(j["version"].is_null());
  EXPECT_TRUE(j["transitions"].is_array());
}

TEST_F(ApiViewsTest, StatusWhenReadyShowsTheObservation) {
  state_.SetPhase(NodePhase::kReady);
  state_.SetObservation(Primary());
  ApiContext ctx = Context();
  nlohmann::json j = StatusView(ctx);
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["version"], "15.18");
  EXPECT_NEAR(j["uptime"].get<double>(), 60, 5);
  EXPECT_EQ(j["connections"]["current"], 4);
  EXPECT_EQ(j["connections"]["max"], 100);
  EXPECT_EQ(j["replication"]["role"], "primary");
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
}

TEST_F(ApiViewsTest, ReplicationIsUnavailableWhileNotReadyOrUnreachable) {
  ApiContext ctx = Context();
  EXPECT_FALSE(ReplicationView(ctx).has_value());
  state_.SetPhase(NodePhase::kReady);
  EXPECT_FALSE(ReplicationView(ctx).has_value()) << "no observation yet";
}

}  // namespace
}  // namespace pgrt
