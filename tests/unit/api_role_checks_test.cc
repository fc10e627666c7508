// Patroni's role checks: every path, for every kind of node, for GET, HEAD and OPTIONS, with
// Patroni 3.0.2's status codes (RestApiHandler.do_GET), and the decisions behind them.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "api/role_checks.h"
#include "api/router.h"
#include "config_test_env.h"

namespace pgrt {
namespace {

// The checks, in the order of the columns below.
constexpr RoleCheck kChecks[] = {
    RoleCheck::kPrimary,      RoleCheck::kStandbyLeader, RoleCheck::kReplica, RoleCheck::kReadOnly,
    RoleCheck::kReadOnlySync, RoleCheck::kSync,          RoleCheck::kAsync,   RoleCheck::kHealth};
constexpr const char* kCheckNames[] = {"primary",        "standby-leader", "replica", "read-only",
                                       "read-only-sync", "sync",           "async",   "health"};

// A kind of node: what NodeState says about it when a check arrives.
struct NodeKind {
  const char* name;
  NodePhase phase;
  PgRole seen;
  Topology meant;
  bool streaming;
  int64_t lag_bytes;
  bool named_sync;  // named by POSTGRES_SYNCHRONOUS_STANDBY_NAMES
  int want[8];      // per check, in kChecks order
};

const Topology kPrimary = Writable(ReplicationMode::kPrimary);
const Topology kStandalone = Writable(ReplicationMode::kStandalone);
const Topology kReplicaOfDb1 = ReplicaOf({"db1", 5432, ""});

const std::vector<NodeKind>& Kinds() {
  // clang-format off
  static const std::vector<NodeKind> kinds = {
    //                                                                                 pri  s-l  rep  ro   ros  sync asyn hlth
    {"primary",                 NodePhase::kReady, PgRole::kPrimary, kPrimary,      false, 0, false, {200, 503, 503, 200, 200, 503, 503, 200}},
    {"standalone",              NodePhase::kReady, PgRole::kPrimary, kStandalone,   false, 0, false, {200, 503, 503, 200, 200, 503, 503, 200}},
    {"sync replica",            NodePhase::kReady, PgRole::kReplica, kReplicaOfDb1, true,  0, true,  {503, 503, 200, 200, 200, 200, 503, 200}},
    {"async replica",           NodePhase::kReady, PgRole::kReplica, kReplicaOfDb1, true,  0, false, {503, 503, 200, 200, 503, 503, 200, 200}},
    // Named, but the primary cannot be waiting for a replica that does not stream.
    {"named, not streaming",    NodePhase::kReady, PgRole::kReplica, kReplicaOfDb1, false, 0, true,  {503, 503, 200, 200, 503, 503, 200, 200}},
    // postgres still in recovery, the node meant to be a primary: neither role yet.
    {"being promoted",          NodePhase::kPromoting, PgRole::kReplica, kPrimary,  true,  0, false, {503, 503, 503, 503, 503, 503, 503, 200}},
    // A primary told to follow another is no primary, even while postgres still is one.
    {"told to follow",          NodePhase::kRepointing, PgRole::kPrimary, kReplicaOfDb1, false, 0, false, {503, 503, 503, 503, 503, 503, 503, 200}},
    {"starting",                NodePhase::kStarting, PgRole::kUnknown, kPrimary,   false, 0, false, {503, 503, 503, 503, 503, 503, 503, 503}},
    {"hibernated",              NodePhase::kHibernated, PgRole::kPrimary, kPrimary, false, 0, false, {503, 503, 503, 503, 503, 503, 503, 503}},
    {"ready, unobserved",       NodePhase::kReady, PgRole::kUnknown, kPrimary,      false, 0, false, {503, 503, 503, 503, 503, 503, 503, 200}},
  };
  // clang-format on
  return kinds;
}

Observation Seen(const NodeKind& k) {
  Observation o;
  o.role = k.seen;
  o.streaming = k.streaming;
  o.replay_lag_bytes = k.lag_bytes;
  return o;
}

RoleFacts Facts(const NodeKind& k) {
  RoleFacts f;
  NodeState s;
  s.SetPhase(k.phase);
  f.ready = s.ready();
  f.seen = Seen(k);
  f.node = k.meant;
  f.sync = IsSyncStandby(f.seen, k.named_sync ? "r1" : "", "r1");
  return f;
}

TEST(RoleCheckStatus, FollowsPatronisCodesForEveryCheckOnEveryKindOfNode) {
  for (const NodeKind& k : Kinds()) {
    for (size_t i = 0; i < std::size(kChecks); ++i)
      EXPECT_EQ(RoleCheckStatus(kChecks[i], Facts(k), {}), k.want[i])
          << k.name << ", /" << kCheckNames[i];
  }
}

TEST(RoleCheckStatus, LagLimitsReplicasByWhatTheyHaveNotReplayedAndNeedTheStream) {
  NodeKind replica = Kinds()[3];  // async replica
  RoleCheckQuery within{.max_lag = 100};
  replica.lag_bytes = 100;
  EXPECT_EQ(RoleCheckStatus(RoleCheck::kReplica, Facts(replica), within), 200);
  EXPECT_EQ(RoleCheckStatus(RoleCheck::kAsync, Facts(replica), within), 200);
  replica.lag_bytes = 101;
  for (RoleCheck c : {RoleCheck::kReplica, RoleCheck::kReadOnly, RoleCheck::kAsync})
    EXPECT_EQ(RoleCheckStatus(c, Facts(replica), within), 503) << static_cast<int>(c);
  EXPECT_EQ(RoleCheckStatus(RoleCheck::kHealth, Facts(replica), within), 200)
      << "health does not look at lag";
  replica.lag_bytes = 0;
  replica.streaming = false;
  EXPECT_EQ(RoleCheckStatus(RoleCheck::kReplica, Facts(replica), within), 503)
      << "without a stream the lag is unknown";
  EXPECT_EQ(RoleCheckStatus(RoleCheck::kReplica, Facts(replica), {}), 200)
      << "without ?lag= a replica is one whether it streams or not, as in Patroni";
  NodeKind primary = Kinds()[0];
  EXPECT_EQ(RoleCheckStatus(RoleCheck::kReadOnly, Facts(primary), within), 200)
      << "a primary is never lagging";
}

TEST(RoleCheckStatus, TagFiltersMatchNoNodeExceptOnThePrimaryChecksWhichIgnoreThem) {
  RoleCheckQuery tagged{.filters_on_tags = true};
  for (const NodeKind& k : Kinds()) {
    for (size_t i = 0; i < std::size(kChecks); ++i) {
      bool ignores_tags =
          kChecks[i] == RoleCheck::kPrimary || kChecks[i] == RoleCheck::kStandbyLeader;
      EXPECT_EQ(RoleCheckStatus(kChecks[i], Facts(k), tagged), ignores_tags ? k.want[i] : 503)
          << k.name << ", /" << kCheckNames[i];
    }
  }
}

TEST(ParseRoleCheckQuery, ReadsLagAndTagFiltersAndTreatsAMalformedLagAsNoLimit) {
  EXPECT_EQ(ParseRoleCheckQuery("lag=16MB").max_lag, int64_t{16} << 20);
  EXPECT_EQ(ParseRoleCheckQuery("lag=16%20MB").max_lag, int64_t{16} << 20);
  EXPECT_EQ(ParseRoleCheckQuery("lag=1048576").max_lag, 1048576);
  EXPECT_FALSE(ParseRoleCheckQuery("lag=lots").max_lag.has_value());
  EXPECT_FALSE(ParseRoleCheckQuery("").max_lag.has_value());
  EXPECT_FALSE(ParseRoleCheckQuery("lag=1MB").filters_on_tags);
  EXPECT_TRUE(ParseRoleCheckQuery("lag=1MB&tag_zone=a").filters_on_tags);
  EXPECT_TRUE(ParseRoleCheckQuery("tag_nofailover").filters_on_tags);
  EXPECT_FALSE(ParseRoleCheckQuery("xtag_zone=a").filters_on_tags);
}

TEST(NamesStandby, ReadsEveryFormOfSynchronousStandbyNamesAsPostgresDoes) {
  const struct {
    const char* names;
    const char* app;
    bool want;
  } rows[] = {
      {"r1", "r1", true},
      {"r0, r1", "r1", true},
      {"r0,r2", "r1", false},
      {"FIRST 1 (r0, r1)", "r1", true},
      {"first 1 (r0)", "r1", false},
      {"ANY 2 (r0, r1, r2)", "r2", true},
      {"2 (r0, r1)", "r1", true},
      {"*", "anything", true},
      {"FIRST 1 (*)", "r1", true},
      {"R1", "r1", true},  // case-insensitive
      {"\"R1\"", "r1", true},
      {"\"a,b\", c", "a,b", true},
      {"\"a\"\"b\"", "a\"b", true},
      {"", "r1", false},
      {"r10", "r1", false},
  };
  for (const auto& r : rows)
    EXPECT_EQ(NamesStandby(r.names, r.app), r.want) << r.names << " / " << r.app;
}

TEST(IsSyncStandby, NeedsAStreamingReplicaThatIsNamed) {
  Observation o;
  o.role = PgRole::kReplica;
  o.streaming = true;
  EXPECT_TRUE(IsSyncStandby(o, "FIRST 1 (r1)", "r1"));
  EXPECT_FALSE(IsSyncStandby(o, "FIRST 1 (r2)", "r1"));
  o.streaming = false;
  EXPECT_FALSE(IsSyncStandby(o, "FIRST 1 (r1)", "r1"));
  o.role = PgRole::kPrimary;
  o.streaming = true;
  EXPECT_FALSE(IsSyncStandby(o, "r1", "r1"));
}

// Every path Patroni answers, through the router, for GET, HEAD and OPTIONS.
class RoleCheckRoutesTest : public ::testing::Test {
 protected:
  RoleCheckRoutesTest()
      : config_(*LoadConfig(
            config_test::With({{"PGDATA", "/"},
                               {"PGRT_NODE_NAME", "r1"},
                               {"POSTGRES_SYNCHRONOUS_STANDBY_NAMES", "FIRST 1 (r1, r2)"}}))) {}
  void SetUp() override { ASSERT_TRUE(loop_.Init().ok()); }

  void Become(const NodeKind& k) {
    state_.SetPhase(k.phase);
    state_.SetTopology(k.meant);
    Observation o = Seen(k);
    state_.SetObservation(o);
  }

  int Ask(Router& router, const std::string& method, const std::string& target) {
    HttpRequest req;
    req.method = method;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    int status = 0;
    if (router.Screen(req)) return router.Screen(req)->status;
    router.Handle(req, [&status](HttpResponse r) { status = r.status; });
    return status;
  }

  Config config_;
  RealClock clock_;
  EventLoop loop_{clock_};
  NodeState state_;
  Timings timings_{clock_.Now()};
  LiveProbe probe_{loop_, {}};
  AsyncPgConn control_{loop_, {}};
};

TEST_F(RoleCheckRoutesTest, EveryPatroniPathAnswersGetHeadAndOptionsWithTheSameCode) {
  ApiContext ctx{config_, state_, timings_, probe_, control_, clock_};
  Router router(BuildRoleCheckRoutes(ctx), "");
  // Path → column of the table above.
  const std::map<std::string, int> paths = {
      {"/", 0},
      {"/primary", 0},
      {"/master", 0},
      {"/read-write", 0},
      {"/leader", 0},
      {"/standby-leader", 1},
      {"/standby_leader", 1},
      {"/replica", 2},
      {"/standby", 2},
      {"/read-only", 3},
      {"/read-only-sync", 4},
      {"/read-only-synchronous", 4},
      {"/sync", 5},
      {"/synchronous", 5},
      {"/async", 6},
      {"/asynchronous", 6},
      {"/health", 7},
  };
  for (const NodeKind& k : Kinds()) {
    // Only a streaming replica named by POSTGRES_SYNCHRONOUS_STANDBY_NAMES is sync here; the
    // configured name list names this node (r1), so kinds that are not meant to be sync are
    // asked as a node of another name would be.
    if (!k.named_sync && k.seen == PgRole::kReplica && k.streaming) continue;
    Become(k);
    for (const auto& [path, column] : paths)
      for (const char* method : {"GET", "HEAD", "OPTIONS"})
        EXPECT_EQ(Ask(router, method, path), k.want[column])
            << k.name << ": " << method << " " << path;
  }
  EXPECT_EQ(Ask(router, "GET", "/nope"), 404) << "\"/\" is exact, not a prefix";
  EXPECT_EQ(Ask(router, "POST", "/primary"), 405);
}

TEST_F(RoleCheckRoutesTest, AReplicaNotNamedAsSynchronousIsAsync) {
  Config other =
      *LoadConfig(config_test::With({{"PGDATA", "/"},
                                     {"PGRT_NODE_NAME", "r3"},
                                     {"POSTGRES_SYNCHRONOUS_STANDBY_NAMES", "FIRST 1 (r1, r2)"}}));
  ApiContext ctx{other, state_, timings_, probe_, control_, clock_};
  Router router(BuildRoleCheckRoutes(ctx), "");
  Become(Kinds()[3]);  // a streaming replica
  for (const char* method : {"GET", "HEAD", "OPTIONS"}) {
    EXPECT_EQ(Ask(router, method, "/async"), 200) << method;
    EXPECT_EQ(Ask(router, method, "/sync"), 503) << method;
    EXPECT_EQ(Ask(router, method, "/read-only-sync"), 503) << method;
    EXPECT_EQ(Ask(router, method, "/replica?lag=1MB"), 200) << method;
    EXPECT_EQ(Ask(router, method, "/replica?lag=garbage"), 200) << method << ": no limit";
    EXPECT_EQ(Ask(router, method, "/replica?tag_zone=a"), 503) << method;
  }
}

}  // namespace
}  // namespace pgrt
