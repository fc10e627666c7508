// Waiter: one-shot commands run to completion against real processes (capture, exit status,
// timeouts, termination signals), polling with WaitUntil, waiting for a running child.
//
// Waiter needs a SignalSource, whose Install blocks the handled signals for the whole test
// process and makes it a child subreaper (as in supervisor_test.cc). That is what lets these
// tests send SIGTERM to themselves: it arrives on the signalfd instead of killing the binary.
#include "process/command.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "process_test_util.h"
#include "scratch_dir.h"
#include "util/clock.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

using test::ReadText;
using test::ScratchDir;

SpawnSpec Sh(const std::string& script) {
  SpawnSpec spec;
  spec.name = "cmd";
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  return spec;
}

using process_test::GoneWithin;

class WaiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signals = SignalSource::Install();
    ASSERT_TRUE(signals.ok()) << signals.status().message();
    signals_.emplace(std::move(*signals));
    signals_->ReadPending();  // a stale SIGCHLD of an earlier test is no news here
    waiter_.emplace(*signals_);
  }

  RealClock clock_;
  std::optional<SignalSource> signals_;
  std::optional<Waiter> waiter_;
};

// ---------------------------------------------------------------------------------------
// Run

TEST_F(WaiterTest, RunCollectsStdoutAndStderrAndTheExitStatus) {
  struct Case {
    std::string script;
    std::string output;
    std::string status;
  };
  const Case kCases[] = {
      {"true", "", "exited with code 0"},
      {"echo out; echo err >&2", "out\nerr\n", "exited with code 0"},
      {"echo partial; exit 3", "partial\n", "exited with code 3"},
      {"echo last words; kill -KILL $$", "last words\n", "killed by signal 9 (Killed)"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.script);
    auto r = waiter_->Run(Sh(c.script), /*capture=*/true, Millis(5000));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->output, c.output);
    EXPECT_EQ(DescribeWaitStatus(r->wait_status), c.status);
  }
}

TEST_F(WaiterTest, RunCollectsOutputLargerThanAPipeBuffer) {
  auto r = waiter_->Run(Sh("head -c 300000 /dev/zero | tr '\\0' x"), true, Millis(5000));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(ExitedCleanly(r->wait_status));
  EXPECT_EQ(r->output, std::string(300000, 'x'));
}

TEST_F(WaiterTest, RunWithoutCaptureLeavesTheOutputWhereTheSpecSendsIt) {
  ScratchDir dir;
  UniqueFd out(::open((dir / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  ASSERT_TRUE(out);
  SpawnSpec spec = Sh("echo to-file");
  spec.stdout_fd = out.get();
  auto r = waiter_->Run(spec, /*capture=*/false, Millis(5000));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(ExitedCleanly(r->wait_status));
  EXPECT_EQ(r->output, "");
  EXPECT_EQ(ReadText(dir / "out"), "to-file\n");
}

TEST_F(WaiterTest, RunReturnsAsSoonAsTheCommandHasExited) {
  // Its wake-up is SIGCHLD (and EOF), not a poll: ten commands cost about what ten plain
  // fork/exec/waitpid rounds cost in the same moment. A 50 ms poll would add ~250 ms or more.
  auto plain_rounds = [] {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {
      pid_t pid = ::fork();
      if (pid == 0) {
        ::execl("/bin/true", "true", nullptr);
        ::_exit(127);
      }
      int ws = 0;
      ::waitpid(pid, &ws, 0);
    }
    return std::chrono::steady_clock::now() - start;
  };
  for (bool capture : {true, false}) {
    SCOPED_TRACE(capture ? "captured" : "not captured");
    const auto baseline = plain_rounds();
    const SteadyTime start = clock_.Now();
    for (int i = 0; i < 10; ++i) {
      SpawnSpec spec = Sh("");
      spec.argv = {"/bin/true"};
      auto r = waiter_->Run(spec, capture, Millis(5000));
      ASSERT_TRUE(r.ok()) << r.status().message();
      ASSERT_TRUE(ExitedCleanly(r->wait_status));
    }
    const auto took = clock_.Now() - start;
    EXPECT_LT(took, 2 * baseline + Millis(200))
        << "waiter " << Millis(std::chrono::duration_cast<Millis>(took)).count() << " ms, plain "
        << std::chrono::duration_cast<Millis>(baseline).count() << " ms";
  }
}

TEST_F(WaiterTest, RunFailsWhenTheCommandCannotStart) {
  SpawnSpec spec = Sh("");
  spec.argv = {"/nonexistent/pgrt-ghost"};
  auto r = waiter_->Run(spec, true, Millis(5000));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exec /nonexistent/pgrt-ghost: No such file or directory"),
            std::string::npos)
      << r.status().message();
}

TEST_F(WaiterTest, RunKillsACommandThatOutlivesItsTimeout) {
  for (bool capture : {true, false}) {
    SCOPED_TRACE(capture ? "captured" : "not captured");
    ScratchDir dir;
    UniqueFd pids(::open((dir / "pids").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    ASSERT_TRUE(pids);
    // The shell and a helper it started: the whole group must go.
    SpawnSpec spec = Sh("echo $$ >&3; sleep 30 & echo $! >&3; wait");
    spec.argv[2] = "exec 3>" + (dir / "pids") + "; " + spec.argv[2];
    const SteadyTime start = clock_.Now();
    auto r = waiter_->Run(spec, capture, Millis(300));
    const auto took = clock_.Now() - start;
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("cmd: timed out"), std::string::npos)
        << r.status().message();
    EXPECT_GE(took, Millis(300));
    EXPECT_LT(took, Millis(3000));
    std::istringstream in(ReadText(dir / "pids"));
    long shell = 0, helper = 0;
    ASSERT_TRUE(in >> shell >> helper);
    errno = 0;
    EXPECT_EQ(::waitpid(static_cast<pid_t>(shell), nullptr, WNOHANG), -1) << "not reaped";
    EXPECT_EQ(errno, ECHILD);
    EXPECT_TRUE(GoneWithin(static_cast<pid_t>(helper))) << "the helper survived the timeout";
  }
}

TEST_F(WaiterTest, RunStopsTheCommandOnATerminationSignal) {
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);  // blocked: waits on the signalfd for the Waiter
  const SteadyTime start = clock_.Now();
  auto r = waiter_->Run(Sh("exec sleep 30"), true, Millis(10000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cmd: interrupted by signal 15");
  EXPECT_EQ(waiter_->termination_signal(), SIGTERM);
  EXPECT_LT(clock_.Now() - start, Millis(3000)) << "waited for the command instead of stopping it";
}

// ---------------------------------------------------------------------------------------
// WaitUntil and WaitFor

TEST_F(WaiterTest, WaitUntilSucceedsOnceTheConditionHolds) {
  int polls = 0;
  Status st = waiter_->WaitUntil([&] { return ++polls == 3; }, Millis(2000), Millis(5), "third");
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(polls, 3);
}

TEST_F(WaiterTest, WaitUntilTimesOutWithAMessageNamingWhatItWaitedFor) {
  const SteadyTime start = clock_.Now();
  Status st = waiter_->WaitUntil([] { return false; }, Millis(100), Millis(10), "wait for godot");
  const auto took = clock_.Now() - start;
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "wait for godot: timed out");
  EXPECT_GE(took, Millis(100));
  EXPECT_LT(took, Millis(2000));
}

TEST_F(WaiterTest, WaitUntilMarksAWatchedChildThatExits) {
  auto child = Child::Spawn(Sh("exit 5"));
  ASSERT_TRUE(child.ok()) << child.status().message();
  Status st = waiter_->WaitUntil([&] { return !child->running(); }, Millis(2000), Millis(5),
                                 "child exit", &*child);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_TRUE(child->exit_status().has_value());
  EXPECT_EQ(DescribeWaitStatus(*child->exit_status()), "exited with code 5");
}

TEST_F(WaiterTest, WaitUntilIsInterruptedByATerminationSignal) {
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  Status st = waiter_->WaitUntil([] { return false; }, Millis(5000), Millis(10), "wait");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "wait: interrupted by signal 2");
  EXPECT_EQ(waiter_->termination_signal(), SIGINT);
}

TEST_F(WaiterTest, WaitForReturnsTheStatusOfAChildStartedElsewhere) {
  auto child = Child::Spawn(Sh("sleep 0.05; exit 2"));
  ASSERT_TRUE(child.ok()) << child.status().message();
  auto ws = waiter_->WaitFor(*child, Millis(3000));
  ASSERT_TRUE(ws.ok()) << ws.status().message();
  EXPECT_EQ(DescribeWaitStatus(*ws), "exited with code 2");
  EXPECT_FALSE(child->running());
}

TEST_F(WaiterTest, WaitForTimesOutAndLeavesTheChildRunning) {
  auto child = Child::Spawn(Sh("exec sleep 30"));
  ASSERT_TRUE(child.ok()) << child.status().message();
  auto ws = waiter_->WaitFor(*child, Millis(100));
  ASSERT_FALSE(ws.ok());
  EXPECT_EQ(ws.status().message(), "timed out");
  EXPECT_TRUE(child->running());
  EXPECT_EQ(::kill(child->pid(), 0), 0);
}  // the Child's destructor kills and reaps it

// ---------------------------------------------------------------------------------------
// RunOffThread

TEST_F(WaiterTest, RunOffThreadReturnsTheStatusOfTheWork) {
  EXPECT_TRUE(waiter_->RunOffThread([] { return Status::Ok(); }, Millis(2000), "work").ok());
  Status st =
      waiter_->RunOffThread([] { return Status::Error("it failed"); }, Millis(2000), "work");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "it failed");
}

TEST_F(WaiterTest, RunOffThreadReturnsAsSoonAsTheWorkEndsNotAtItsNextLook) {
  const SteadyTime start = clock_.Now();
  Status st = waiter_->RunOffThread(
      [] {
        std::this_thread::sleep_for(Millis(50));
        return Status::Ok();
      },
      Millis(0), "work");
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_LT(clock_.Now() - start, Millis(500));  // it looks again only after a second
}

TEST_F(WaiterTest, RunOffThreadKeepsTheLoopTurningWhileTheWorkBlocks) {
  EventLoop loop(clock_);
  ASSERT_TRUE(loop.Init().ok());
  Waiter waiter(*signals_, &loop);
  auto timer_ran = std::make_shared<std::atomic<bool>>(false);
  loop.AddTimer(Millis(20), [timer_ran] { *timer_ran = true; });
  // The work ends only once the loop ran the timer, or gives up after 3 s.
  Status st = waiter.RunOffThread(
      [timer_ran] {
        for (int i = 0; i < 300 && !*timer_ran; ++i) std::this_thread::sleep_for(Millis(10));
        return *timer_ran ? Status::Ok() : Status::Error("the loop stood still");
      },
      Millis(5000), "work");
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST_F(WaiterTest, RunOffThreadTimesOutWithoutWaitingForTheWork) {
  const SteadyTime start = clock_.Now();
  Status st = waiter_->RunOffThread(
      [] {
        std::this_thread::sleep_for(Millis(1500));
        return Status::Ok();
      },
      Millis(100), "slow work");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "slow work: timed out");
  EXPECT_LT(clock_.Now() - start, Millis(1000));
}

TEST_F(WaiterTest, RunOffThreadIsInterruptedByATerminationSignalWithoutWaitingForTheWork) {
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  const SteadyTime start = clock_.Now();
  Status st = waiter_->RunOffThread(
      [] {
        std::this_thread::sleep_for(Millis(1500));
        return Status::Ok();
      },
      Millis(0), "blocked work");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "blocked work: interrupted by signal 15");
  EXPECT_EQ(waiter_->termination_signal(), SIGTERM);
  EXPECT_LT(clock_.Now() - start, Millis(1000));
}

// ---------------------------------------------------------------------------------------
// Tail

TEST(Tail, KeepsTheLastBytesOfLongOutput) {
  struct Case {
    std::string in;
    size_t max;
    std::string out;
  };
  const Case kCases[] = {
      {"", 5, ""},
      {"short", 5, "short"},
      {"0123456789", 4, "…6789"},
      {std::string(3000, 'a') + "END", 3, "…END"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.in.substr(0, 20));
    EXPECT_EQ(Tail(c.in, c.max), c.out);
  }
  EXPECT_EQ(Tail(std::string(2500, 'z')).size(), std::string("…").size() + 2000);
}

}  // namespace
}  // namespace pgrt
