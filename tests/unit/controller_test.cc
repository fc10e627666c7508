// The node's transition table, driven with fake actions: which moves the wishes and the
// observations cause, which actions they start (once), and what the history keeps.
#include "node/controller.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace pgrt {
namespace {

class FakeClock final : public Clock {
 public:
  SteadyTime Now() const override { return SteadyTime(); }
  SystemTime WallNow() const override { return SystemTime(std::chrono::seconds(1700000000)); }
};

// Records the actions started; never observes by itself (the tests play the loop).
class FakeActions final : public ControllerActions {
 public:
  void StartPostgres() override { calls.push_back("start"); }
  void StopPostgres() override { calls.push_back("stop"); }
  void Shutdown() override { calls.push_back("shutdown"); }
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
  for (Mode m : {Mode::kStarting, Mode::kRunning, Mode::kRestarting, Mode::kHibernating,
                 Mode::kHibernated, Mode::kWaking, Mode::kFailed})
    EXPECT_EQ(stoppable.count(m), 1u) << ToString(m);
}

TEST(TransitionTable, EveryRowLeavesItsModeAndEveryModeIsReachable) {
  std::set<Mode> reached = {Mode::kStarting};
  for (const Transition& t : TransitionTable()) {
    EXPECT_NE(t.from, t.to) << ToString(t.from);
    reached.insert(t.to);
  }
  EXPECT_EQ(reached.size(), 9u);
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
