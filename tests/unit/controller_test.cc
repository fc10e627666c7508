// The node's transition table, driven with fake actions: which moves the wishes and the
// observations cause, which actions they start (once), and what the history keeps.
#include "node/controller.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "util/fake_clock.h"

namespace pgrt {
namespace {

// Records the actions started; never observes by itself (the tests play the loop).
class FakeActions final : public ControllerActions {
 public:
  void StartPostgres() override { calls.push_back("start"); }
  void StopPostgres() override { calls.push_back("stop"); }
  void Shutdown() override { calls.push_back("shutdown"); }
  void Promote() override { calls.push_back("promote"); }
  void Repoint() override { calls.push_back("repoint"); }
  void Rewind() override { calls.push_back("rewind"); }
  void Reclone() override { calls.push_back("reclone"); }
  std::vector<std::string> calls;
};

Observed Ready() { return {true, true, false}; }
Observed Down() { return {false, false, false}; }
Observed Starting() { return {true, false, false}; }

class ControllerTest : public ::testing::Test {
 protected:
  void Run() { c_.Observe(Ready()); }
  FakeClock clock_;
  FakeActions actions_;
  Controller c_{actions_, clock_};
};

TEST_F(ControllerTest, StartsInStartingAndRunsOnceReadyIsObserved) {
  EXPECT_EQ(c_.mode(), Mode::kStarting);
  c_.Observe(Starting());
  EXPECT_EQ(c_.mode(), Mode::kStarting);
  Run();
  EXPECT_EQ(c_.mode(), Mode::kRunning);
  EXPECT_TRUE(actions_.calls.empty());
}

TEST_F(ControllerTest, HibernateStopsPostgresOnceAndIsHibernatedWhenItIsDown) {
  Run();
  c_.Hibernate("hibernate requested through the API");
  EXPECT_EQ(c_.mode(), Mode::kHibernating);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop"}));
  c_.Hibernate("again");  // idempotent: already on its way
  EXPECT_EQ(actions_.calls.size(), 1u);
  c_.Observe(Down());
  EXPECT_EQ(c_.mode(), Mode::kHibernated);
  c_.Hibernate("again");
  EXPECT_EQ(actions_.calls.size(), 1u);
  const TransitionRecord& move = c_.history()[c_.history().size() - 2];
  EXPECT_EQ(move.from, Mode::kRunning);
  EXPECT_EQ(move.to, Mode::kHibernating);
  EXPECT_EQ(move.why, "hibernate requested through the API");
}

TEST_F(ControllerTest, WakeStartsPostgresOnceAndRunsWhenReady) {
  Run();
  c_.Hibernate("api");
  c_.Observe(Down());
  c_.Wake("wake requested through the API");
  EXPECT_EQ(c_.mode(), Mode::kWaking);
  c_.Wake("again");
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop", "start"}));
  c_.Observe(Starting());
  EXPECT_EQ(c_.mode(), Mode::kWaking);
  Run();
  EXPECT_EQ(c_.mode(), Mode::kRunning);
}

TEST_F(ControllerTest, AWakeWhosePostgresKeepsFailingSleepsAgainAndTheNextWakeTriesAgain) {
  Run();
  c_.Hibernate("api");
  c_.Observe(Down());
  c_.Wake("a client connected");
  ASSERT_EQ(c_.mode(), Mode::kWaking);
  c_.Observe(Starting());
  c_.Observe({false, false, true});  // the supervisor gave the wake up
  EXPECT_EQ(c_.mode(), Mode::kHibernated);
  EXPECT_EQ(c_.history().back().why, "postgres keeps failing to start: asleep until the next wake");
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop", "start"}));
  // Nothing starts it by itself; the next request does.
  c_.Observe({false, false, true});
  EXPECT_EQ(c_.mode(), Mode::kHibernated);
  c_.Wake("another client connected");
  EXPECT_EQ(c_.mode(), Mode::kWaking);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop", "start", "start"}));
  Run();
  EXPECT_EQ(c_.mode(), Mode::kRunning);
}

TEST_F(ControllerTest, WakeWhileRunningDoesNothing) {
  Run();
  c_.Wake("api");
  EXPECT_EQ(c_.mode(), Mode::kRunning);
  EXPECT_TRUE(actions_.calls.empty());
}

TEST_F(ControllerTest, HibernateWhileWakingStopsAgain) {
  Run();
  c_.Hibernate("a");
  c_.Observe(Down());
  c_.Wake("b");
  c_.Hibernate("c");
  EXPECT_EQ(c_.mode(), Mode::kHibernating);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop", "start", "stop"}));
}

TEST_F(ControllerTest, HibernateDuringStartUpStopsPostgres) {
  c_.Hibernate("api");
  EXPECT_EQ(c_.mode(), Mode::kHibernating);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop"}));
}

TEST_F(ControllerTest, AStopWinsFromEveryModeAndShutsDownOnce) {
  for (Mode from : {Mode::kStarting, Mode::kRunning, Mode::kRestarting, Mode::kHibernating,
                    Mode::kHibernated, Mode::kWaking, Mode::kFailed}) {
    FakeActions actions;
    Controller c(actions, clock_, from);
    c.Stop("SIGTERM");
    EXPECT_EQ(c.mode(), Mode::kStopping) << ToString(from);
    c.Stop("SIGINT");
    EXPECT_EQ(actions.calls, (std::vector<std::string>{"shutdown"})) << ToString(from);
    c.Observe(Down());
    EXPECT_EQ(c.mode(), Mode::kStopped) << ToString(from);
    EXPECT_EQ(c.history().back().why, "postgres stopped");
  }
}

TEST_F(ControllerTest, ACrashIsObservedAsRestartingAndAGiveUpAsFailed) {
  Run();
  c_.Observe(Starting());  // the supervisor restarts it by itself
  EXPECT_EQ(c_.mode(), Mode::kRestarting);
  Run();
  EXPECT_EQ(c_.mode(), Mode::kRunning);
  c_.Observe(Down());
  c_.Observe({false, false, true});
  EXPECT_EQ(c_.mode(), Mode::kFailed);
  EXPECT_TRUE(actions_.calls.empty());
}

TEST_F(ControllerTest, TheHistoryKeepsTheLastMovesOnly) {
  Run();
  for (int i = 0; i < 30; ++i) {
    c_.Hibernate("h");
    c_.Observe(Down());
    c_.Wake("w");
    Run();
  }
  EXPECT_EQ(c_.history().size(), Controller::kHistory);
  EXPECT_EQ(c_.history().back().to, Mode::kRunning);
}

TEST_F(ControllerTest, WhenRunsItsCallbackOnceTheModeIsReached) {
  Run();
  int hibernated = 0;
  c_.When({Mode::kRunning}, [&] { ++hibernated; });
  EXPECT_EQ(hibernated, 1);  // already there
  c_.Hibernate("api");
  c_.When({Mode::kHibernated, Mode::kFailed}, [&] { ++hibernated; });
  EXPECT_EQ(hibernated, 1);
  c_.Observe(Down());
  EXPECT_EQ(hibernated, 2);
  c_.Wake("w");
  Run();
  EXPECT_EQ(hibernated, 2);  // once only
}

TEST(TransitionTable, EveryModeThatIsNotStoppingCanBeStopped) {
  std::set<Mode> stoppable;
  for (const Transition& t : TransitionTable())
    if (t.to == Mode::kStopping) stoppable.insert(t.from);
  for (Mode m :
       {Mode::kStarting, Mode::kRunning, Mode::kRestarting, Mode::kHibernating, Mode::kHibernated,
        Mode::kWaking, Mode::kFailed, Mode::kPromoting, Mode::kRepointing, Mode::kDemoting,
        Mode::kRewinding, Mode::kRecloning, Mode::kCannotRejoin})
    EXPECT_EQ(stoppable.count(m), 1u) << ToString(m);
}

TEST(TransitionTable, EveryRowLeavesItsModeAndEveryModeIsReachable) {
  std::set<Mode> reached = {Mode::kStarting};
  for (const Transition& t : TransitionTable()) {
    EXPECT_NE(t.from, t.to) << ToString(t.from);
    reached.insert(t.to);
  }
  // All but the start-up steps before postgres runs (Controller::Step records those).
  EXPECT_EQ(reached.size(), 15u);
}

}  // namespace
}  // namespace pgrt

namespace pgrt {
namespace {

// docs/design.md shows the table; every row of the code must be there, in the same order.
TEST(TransitionTable, DocsDesignShowsEveryRowInOrder) {
  std::ifstream in(std::string(PGRT_SOURCE_DIR) + "/docs/design.md");
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string text = doc.str();
  size_t at = 0;
  for (const Transition& t : TransitionTable()) {
    std::string row = std::string("| ") + ToString(t.from) + " | " + ToString(t.to) + " | ";
    size_t found = text.find(row, at);
    ASSERT_NE(found, std::string::npos) << "docs/design.md lacks (or misorders) the row " << row;
    size_t end = text.find('\n', found);
    std::string line = text.substr(found, end - found);
    if (*t.why) {
      EXPECT_NE(line.find(t.why), std::string::npos) << line;
    }
    at = end;
  }
}

}  // namespace
}  // namespace pgrt

namespace pgrt {
namespace {

// Role changes: the node runs as `applied` and postgres reports `role`.
const Topology kPrimary = Writable(ReplicationMode::kPrimary);
const Topology kReplicaOfA = ReplicaOf({"db-a", 5432, "slot_a"});
const Topology kReplicaOfB = ReplicaOf({"db-b", 5433, ""});

Observed Running(PgRole role, const Topology& applied) {
  Observed o{true, true, false};
  o.role = role;
  o.applied = applied;
  return o;
}

class RoleTest : public ::testing::Test {
 protected:
  void Boot(const Topology& t, PgRole role) {
    c_.Assume(t);
    c_.Observe(Running(role, t));
    ASSERT_EQ(c_.mode(), Mode::kRunning);
  }
  FakeClock clock_;
  FakeActions actions_;
  Controller c_{actions_, clock_};
};

TEST_F(RoleTest, APromotionRunsOnceAndEndsWhenPostgresLeftRecovery) {
  Boot(kReplicaOfA, PgRole::kReplica);
  c_.SetTopology(kPrimary, "promote requested through the API");
  EXPECT_EQ(c_.mode(), Mode::kPromoting);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"promote"}));
  EXPECT_EQ(c_.history().back().why, "promote requested through the API");
  c_.Observe(Running(PgRole::kReplica, kReplicaOfA));  // not yet
  EXPECT_EQ(c_.mode(), Mode::kPromoting);
  c_.Observe(Running(PgRole::kPrimary, kPrimary));
  EXPECT_EQ(c_.mode(), Mode::kRunning);
  EXPECT_EQ(c_.history().back().why, "postgres left recovery: a primary now");
  EXPECT_EQ(actions_.calls.size(), 1u);
}

TEST_F(RoleTest, AFailedPromotionWithdrawsTheWishAndRunsOnAsAReplica) {
  Boot(kReplicaOfA, PgRole::kReplica);
  c_.SetTopology(kPrimary, "promote requested through the API");
  c_.SetTopology(kReplicaOfA, "promotion failed: timeout");  // what the node does
  c_.Observe(Running(PgRole::kReplica, kReplicaOfA));
  EXPECT_EQ(c_.mode(), Mode::kRunning);
  EXPECT_EQ(c_.history().back().why, "promotion failed: timeout");
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"promote"}));
}

TEST_F(RoleTest, ANewUpstreamRepointsAReplicaWithoutStoppingIt) {
  Boot(kReplicaOfA, PgRole::kReplica);
  c_.SetTopology(kReplicaOfB, "follow db-b");
  EXPECT_EQ(c_.mode(), Mode::kRepointing);
  c_.Observe(Running(PgRole::kReplica, kReplicaOfB));
  EXPECT_EQ(c_.mode(), Mode::kRunning);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"repoint"}));
}

TEST_F(RoleTest, AReplicaFoundPastTheNewPrimarysForkWhileRepointingIsStoppedAndRewound) {
  Boot(kReplicaOfA, PgRole::kReplica);
  c_.SetTopology(kReplicaOfB, "following the leader db-b");
  ASSERT_EQ(c_.mode(), Mode::kRepointing);
  // The re-point asked db-b where its timeline forked: this node holds WAL past that point.
  Observed forked = Running(PgRole::kReplica, kReplicaOfA);
  forked.rewind_needed = true;
  c_.Observe(forked);
  EXPECT_EQ(c_.mode(), Mode::kDemoting);
  EXPECT_EQ(c_.history().back().why,
            "its data went past the point where the new primary's timeline forked off");
  Observed down{false, false, false};
  down.applied = kReplicaOfA;
  down.rewind_needed = true;
  c_.Observe(down);
  EXPECT_EQ(c_.mode(), Mode::kRewinding);
  Observed rewound{false, false, false};
  rewound.applied = kReplicaOfB;
  c_.Observe(rewound);
  EXPECT_EQ(c_.mode(), Mode::kStarting);
  c_.Observe(Running(PgRole::kReplica, kReplicaOfB));
  EXPECT_EQ(c_.mode(), Mode::kRunning);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"repoint", "stop", "rewind", "start"}));
}

TEST_F(RoleTest, AReplicaFoundForkedFromItsUpstreamWhileFollowingItIsStoppedAndRewound) {
  Boot(kReplicaOfB, PgRole::kReplica);
  Observed forked = Running(PgRole::kReplica, kReplicaOfB);
  forked.forked = true;
  c_.Observe(forked);
  EXPECT_EQ(c_.mode(), Mode::kDemoting);
  EXPECT_EQ(c_.history().back().why,
            "its data went past the point where its primary's timeline forked off");
  Observed down{false, false, false};
  down.applied = kReplicaOfB;
  down.forked = true;
  c_.Observe(down);
  EXPECT_EQ(c_.mode(), Mode::kRewinding);
  Observed rewound{false, false, false};
  rewound.applied = kReplicaOfB;
  c_.Observe(rewound);
  EXPECT_EQ(c_.mode(), Mode::kStarting);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop", "rewind", "start"}));
}

TEST_F(RoleTest, AReplicaToldToLeadWhileRepointingRunsAgainAndIsPromoted) {
  Boot(kReplicaOfA, PgRole::kReplica);
  c_.SetTopology(kReplicaOfB, "following the leader db-b");
  c_.SetTopology(kPrimary, "this node holds the leader key");
  EXPECT_EQ(c_.mode(), Mode::kRepointing);  // the re-point's answer is awaited
  c_.Observe(Running(PgRole::kReplica, kReplicaOfA));
  EXPECT_EQ(c_.mode(), Mode::kPromoting);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"repoint", "promote"}));
}

TEST_F(RoleTest, APrimaryToldToFollowStopsRewindsAndStartsAsAReplica) {
  Boot(kPrimary, PgRole::kPrimary);
  c_.SetTopology(kReplicaOfB, "follow db-b requested through the API");
  EXPECT_EQ(c_.mode(), Mode::kDemoting);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop"}));
  c_.Observe(Down());  // Down() applies nothing new: the files still say primary
  EXPECT_EQ(c_.mode(), Mode::kRewinding);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop", "rewind"}));
  Observed rewound{false, false, false};
  rewound.applied = kReplicaOfB;
  c_.Observe(rewound);
  EXPECT_EQ(c_.mode(), Mode::kStarting);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop", "rewind", "start"}));
  c_.Observe(Running(PgRole::kReplica, kReplicaOfB));
  EXPECT_EQ(c_.mode(), Mode::kRunning);
}

namespace {
// A primary told to follow db-b, stopped, its pg_rewind failed every try.
void RewindFailed(Controller& c) {
  c.Assume(kPrimary);
  c.Observe(Running(PgRole::kPrimary, kPrimary));
  c.SetTopology(kReplicaOfB, "follow");
  c.Observe(Down());
  Observed failed{false, false, false};
  failed.applied = kPrimary;
  failed.action_failed = true;
  failed.failed_for = kReplicaOfB;
  c.Observe(failed);
}
}  // namespace

TEST_F(RoleTest, ARewindThatKeepsFailingLeavesPostgresStoppedWithoutRecloneAndPgrtRunning) {
  RewindFailed(c_);
  EXPECT_EQ(c_.mode(), Mode::kCannotRejoin);
  EXPECT_EQ(c_.history().back().why,
            "pg_rewind keeps failing and PGRT_REPLICA_RECLONE is off: postgres stays stopped");
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop", "rewind"}));
  // The same leader again, or none, changes nothing; a stop still stops.
  c_.SetTopology(ReplicaOf({}), "no leader");
  c_.SetTopology(kReplicaOfB, "following the leader db-b");
  EXPECT_EQ(c_.mode(), Mode::kCannotRejoin);
  c_.Stop("SIGTERM received");
  EXPECT_EQ(c_.mode(), Mode::kStopping);
  EXPECT_EQ(actions_.calls.back(), "shutdown");
}

TEST_F(RoleTest, ANodeThatCouldNotRejoinOnePrimaryTriesPgRewindFromTheNextOne) {
  RewindFailed(c_);
  ASSERT_EQ(c_.mode(), Mode::kCannotRejoin);
  c_.SetTopology(kReplicaOfA, "following the leader db-a");
  EXPECT_EQ(c_.mode(), Mode::kRewinding);
  EXPECT_EQ(c_.history().back().why, "another primary leads: trying pg_rewind from it");
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop", "rewind", "rewind"}));
  // This time it works: postgres starts as a replica of the new primary.
  Observed rewound{false, false, false};
  rewound.applied = kReplicaOfA;
  c_.Observe(rewound);
  EXPECT_EQ(c_.mode(), Mode::kStarting);
  c_.Observe(Running(PgRole::kReplica, kReplicaOfA));
  EXPECT_EQ(c_.mode(), Mode::kRunning);
}

TEST_F(RoleTest, ARewindThatKeepsFailingReclonesWhereAllowedAndStartsTheClone) {
  c_.AllowReclone(true);
  RewindFailed(c_);
  EXPECT_EQ(c_.mode(), Mode::kRecloning);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop", "rewind", "reclone"}));
  // The stale observation (the rewind's failure) is no verdict on the clone.
  EXPECT_EQ(c_.mode(), Mode::kRecloning);
  Observed copying{false, false, false};
  copying.applied = kPrimary;
  c_.Observe(copying);
  EXPECT_EQ(c_.mode(), Mode::kRecloning);
  Observed cloned{false, false, false};
  cloned.applied = kReplicaOfB;
  c_.Observe(cloned);
  EXPECT_EQ(c_.mode(), Mode::kStarting);
  EXPECT_EQ(c_.history().back().why, "the new clone is in place");
  c_.Observe(Running(PgRole::kReplica, kReplicaOfB));
  EXPECT_EQ(c_.mode(), Mode::kRunning);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop", "rewind", "reclone", "start"}));
}

TEST_F(RoleTest, AFailedRecloneLeavesPostgresStopped) {
  c_.AllowReclone(true);
  RewindFailed(c_);
  Observed failed{false, false, false};
  failed.applied = kPrimary;
  failed.action_failed = true;
  c_.Observe(failed);
  EXPECT_EQ(c_.mode(), Mode::kCannotRejoin);
  EXPECT_EQ(c_.history().back().why, "the new clone failed: postgres stays stopped");
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop", "rewind", "reclone"}));
}

TEST_F(RoleTest, AStopDuringARewindShutsDown) {
  Boot(kPrimary, PgRole::kPrimary);
  c_.SetTopology(kReplicaOfB, "follow");
  c_.Observe(Down());
  c_.Stop("SIGTERM received");
  EXPECT_EQ(c_.mode(), Mode::kStopping);
  EXPECT_EQ(actions_.calls.back(), "shutdown");
}

TEST_F(RoleTest, PostgresPromotedBehindPgrtsBackIsNotDemoted) {
  // The files say replica and nobody asked for a change: no rewind of its writes.
  Boot(kReplicaOfA, PgRole::kReplica);
  c_.Observe(Running(PgRole::kPrimary, kReplicaOfA));
  EXPECT_EQ(c_.mode(), Mode::kRunning);
  EXPECT_TRUE(actions_.calls.empty());
}

TEST_F(RoleTest, NoRoleChangeWhileHibernatedOrUnobserved) {
  Boot(kReplicaOfA, PgRole::kReplica);
  c_.Hibernate("idle");
  c_.Observe(Down());
  c_.SetTopology(kPrimary, "promote");
  EXPECT_EQ(c_.mode(), Mode::kHibernated);
  EXPECT_EQ(actions_.calls, (std::vector<std::string>{"stop"}));
}

TEST_F(RoleTest, StartUpStepsAreRecordedWithoutActions) {
  c_.Step(Mode::kCloning, "PGDATA is empty: cloning the primary db-a");
  c_.Step(Mode::kStarting, "PGDATA is ready");
  EXPECT_EQ(c_.history().size(), 2u);
  EXPECT_EQ(c_.history()[0].to, Mode::kCloning);
  EXPECT_TRUE(actions_.calls.empty());
}

}  // namespace
}  // namespace pgrt
