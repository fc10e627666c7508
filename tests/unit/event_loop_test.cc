// EventLoop: timers, cancellation, closures posted from other threads, fd watches.
// Every Run() is bounded by a guard timer, so a broken loop fails a test instead of hanging.
#include "process/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "process_test_util.h"
#include "util/clock.h"
#include "util/fake_clock.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
  void Put(const char* byte = "x") { ASSERT_EQ(::write(write.get(), byte, 1), 1); }
  UniqueFd read, write;
};

class EventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.Init().ok()); }

  // Runs the loop until something quits it; false when `limit` passed first.
  bool RunAtMost(Millis limit = Millis(2000)) { return process_test::RunLoopAtMost(loop_, limit); }

  RealClock clock_;
  EventLoop loop_{clock_};
};

TEST_F(EventLoopTest, TimersFireInDeadlineOrderNotInTheOrderAdded) {
  std::vector<std::string> fired;
  loop_.AddTimer(Millis(30), [&] { fired.push_back("30ms"); });
  loop_.AddTimer(Millis(10), [&] { fired.push_back("10ms"); });
  loop_.AddTimer(Millis(0), [&] { fired.push_back("0ms"); });
  loop_.AddTimer(Millis(20), [&] { fired.push_back("20ms"); });
  loop_.AddTimer(Millis(40), [&] { loop_.Quit(); });
  ASSERT_TRUE(RunAtMost());
  EXPECT_EQ(fired, (std::vector<std::string>{"0ms", "10ms", "20ms", "30ms"}));
}

TEST_F(EventLoopTest, ATimerDoesNotFireBeforeItsDeadline) {
  const SteadyTime added = clock_.Now();
  SteadyTime fired_at{};
  loop_.AddTimer(Millis(50), [&] {
    fired_at = clock_.Now();
    loop_.Quit();
  });
  ASSERT_TRUE(RunAtMost());
  EXPECT_GE(fired_at - added, Millis(50));
}

TEST(EventLoop, TimersWithTheSameDeadlineFireInTheOrderAdded) {
  FakeClock clock;
  EventLoop loop(clock);
  ASSERT_TRUE(loop.Init().ok());
  std::vector<int> fired;
  for (int i = 0; i < 5; ++i) loop.AddTimer(Millis(0), [&fired, i] { fired.push_back(i); });
  loop.AddTimer(Millis(0), [&] { loop.Quit(); });
  ASSERT_TRUE(loop.Run().ok());
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(EventLoopTest, ACancelledTimerNeverFires) {
  bool cancelled_fired = false;
  bool kept_fired = false;
  EventLoop::TimerId doomed = loop_.AddTimer(Millis(10), [&] { cancelled_fired = true; });
  loop_.AddTimer(Millis(10), [&] { kept_fired = true; });
  loop_.CancelTimer(doomed);
  loop_.AddTimer(Millis(30), [&] { loop_.Quit(); });
  ASSERT_TRUE(RunAtMost());
  EXPECT_FALSE(cancelled_fired);
  EXPECT_TRUE(kept_fired) << "cancelling one timer took another with it";
}

TEST_F(EventLoopTest, ATimerCanCancelALaterOneFromItsCallback) {
  bool later_fired = false;
  EventLoop::TimerId later = loop_.AddTimer(Millis(20), [&] { later_fired = true; });
  loop_.AddTimer(Millis(5), [&] { loop_.CancelTimer(later); });
  loop_.AddTimer(Millis(40), [&] { loop_.Quit(); });
  ASSERT_TRUE(RunAtMost());
  EXPECT_FALSE(later_fired);
}

TEST_F(EventLoopTest, CancellingAnUnknownOrFiredTimerIsHarmless) {
  int fired = 0;
  EventLoop::TimerId once = loop_.AddTimer(Millis(0), [&] { ++fired; });
  loop_.AddTimer(Millis(5), [&] {
    loop_.CancelTimer(once);    // already fired
    loop_.CancelTimer(999999);  // never existed
    loop_.CancelTimer(0);       // "no timer", as callers store it
    loop_.Quit();
  });
  ASSERT_TRUE(RunAtMost());
  EXPECT_EQ(fired, 1);
}

TEST_F(EventLoopTest, TimerIdsAreUnique) {
  EventLoop::TimerId a = loop_.AddTimer(Millis(1000), [] {});
  EventLoop::TimerId b = loop_.AddTimer(Millis(1000), [] {});
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
}

TEST_F(EventLoopTest, ATimerAddedFromATimerCallbackFires) {
  int rounds = 0;
  std::function<void()> again = [&] {
    if (++rounds == 3) {
      loop_.Quit();
      return;
    }
    loop_.AddTimer(Millis(1), again);
  };
  loop_.AddTimer(Millis(0), again);
  ASSERT_TRUE(RunAtMost());
  EXPECT_EQ(rounds, 3);
}

TEST_F(EventLoopTest, QuitLeavesTheRemainingDueTimersForTheNextRun) {
  std::vector<std::string> fired;
  loop_.AddTimer(Millis(0), [&] {
    fired.push_back("first");
    loop_.Quit();
  });
  loop_.AddTimer(Millis(0), [&] {
    fired.push_back("second");
    loop_.Quit();
  });
  ASSERT_TRUE(RunAtMost());
  EXPECT_EQ(fired, (std::vector<std::string>{"first"}));
  ASSERT_TRUE(RunAtMost()) << "Run after Quit did not run again";
  EXPECT_EQ(fired, (std::vector<std::string>{"first", "second"}));
}

TEST_F(EventLoopTest, PostFromAnotherThreadRunsOnTheLoopThreadInOrder) {
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::vector<int> seen;
  std::atomic<bool> off_thread{false};
  std::thread poster([&] {
    for (int i = 0; i < 100; ++i) {
      loop_.Post([&, i] {
        if (std::this_thread::get_id() != loop_thread) off_thread = true;
        seen.push_back(i);
        if (i == 99) loop_.Quit();
      });
    }
  });
  bool quit = RunAtMost();
  poster.join();
  ASSERT_TRUE(quit) << "posted closures did not run (" << seen.size() << " of 100)";
  EXPECT_FALSE(off_thread);
  std::vector<int> expected(100);
  for (int i = 0; i < 100; ++i) expected[i] = i;
  EXPECT_EQ(seen, expected);
}

TEST_F(EventLoopTest, PostWakesALoopSleepingWithoutTimers) {
  // No timer is due for 2 s: only the wake-up of Post can end this run early.
  const SteadyTime start = clock_.Now();
  std::thread poster([&] {
    std::this_thread::sleep_for(Millis(20));
    loop_.Post([&] { loop_.Quit(); });
  });
  bool quit = RunAtMost(Millis(2000));
  poster.join();
  EXPECT_TRUE(quit);
  EXPECT_LT(clock_.Now() - start, Millis(1000));
}

TEST_F(EventLoopTest, APostBeforeRunRunsOnceTheLoopRuns) {
  bool ran = false;
  loop_.Post([&] {
    ran = true;
    loop_.Quit();
  });
  EXPECT_FALSE(ran);
  ASSERT_TRUE(RunAtMost());
  EXPECT_TRUE(ran);
}

TEST_F(EventLoopTest, AWatchedPipeCallsBackWhenReadableAndNotAfterUnwatch) {
  // Ordered by events, not by timer deadlines, so a starved machine cannot reorder it.
  Pipe pipe;
  std::string received;
  pipe.Put("a");
  ASSERT_TRUE(loop_
                  .Watch(pipe.read.get(),
                         [&] {
                           char c;
                           while (::read(pipe.read.get(), &c, 1) == 1) received += c;
                           loop_.Unwatch(pipe.read.get());
                           pipe.Put("b");
                           loop_.AddTimer(Millis(30), [&] { loop_.Quit(); });
                         })
                  .ok());
  ASSERT_TRUE(RunAtMost());
  EXPECT_EQ(received, "a");
}

TEST_F(EventLoopTest, WatchIsLevelTriggered) {
  Pipe pipe;
  pipe.Put();
  int calls = 0;
  ASSERT_TRUE(loop_
                  .Watch(pipe.read.get(),
                         [&] {
                           // Deliberately not reading: the fd stays readable.
                           if (++calls == 3) {
                             loop_.Unwatch(pipe.read.get());
                             loop_.Quit();
                           }
                         })
                  .ok());
  ASSERT_TRUE(RunAtMost());
  EXPECT_EQ(calls, 3);
}

TEST_F(EventLoopTest, AnFdUnwatchedByAnEarlierCallbackInTheSameBatchIsNotCalled) {
  Pipe a, b;
  a.Put();
  b.Put();  // both readable before Run: one epoll_wait reports both
  int calls = 0;
  auto unwatch_both = [&] {
    ++calls;
    loop_.Unwatch(a.read.get());
    loop_.Unwatch(b.read.get());
  };
  ASSERT_TRUE(loop_.Watch(a.read.get(), unwatch_both).ok());
  ASSERT_TRUE(loop_.Watch(b.read.get(), unwatch_both).ok());
  loop_.AddTimer(Millis(20), [&] { loop_.Quit(); });
  ASSERT_TRUE(RunAtMost());
  EXPECT_EQ(calls, 1);
}

TEST_F(EventLoopTest, AnFdNumberReusedInsideTheCallbackThatUnwatchedItIsWatchedAnew) {
  // A callback that ends its fd and opens another under the same number (a connection that
  // failed, then a pipe made for a child) must see the new one's events.
  auto old = std::make_unique<Pipe>();
  old->Put();
  const int number = old->read.get();
  std::unique_ptr<Pipe> fresh;
  bool fresh_called = false;
  ASSERT_TRUE(loop_
                  .Watch(number,
                         [&] {
                           loop_.Unwatch(number);
                           old.reset();
                           fresh = std::make_unique<Pipe>();
                           ASSERT_EQ(fresh->read.get(), number);  // the lowest free number
                           ASSERT_TRUE(loop_
                                           .Watch(fresh->read.get(),
                                                  [&] {
                                                    fresh_called = true;
                                                    loop_.Quit();
                                                  })
                                           .ok());
                           fresh->Put();
                         })
                  .ok());
  ASSERT_TRUE(RunAtMost());
  EXPECT_TRUE(fresh_called);
  loop_.Unwatch(number);
}

TEST_F(EventLoopTest, WatchFailsForABadOrAlreadyWatchedFd) {
  Pipe pipe;
  ASSERT_TRUE(loop_.Watch(pipe.read.get(), [] {}).ok());
  Status twice = loop_.Watch(pipe.read.get(), [] {});
  EXPECT_FALSE(twice.ok());
  EXPECT_TRUE(twice.IsAlreadyExists()) << twice.message();
  Status bad = loop_.Watch(-1, [] {});
  EXPECT_TRUE(bad.IsInvalidArgument()) << bad.message();
  loop_.Unwatch(pipe.read.get());
  loop_.Unwatch(pipe.read.get());  // a second Unwatch is a no-op
  EXPECT_TRUE(loop_.Watch(pipe.read.get(), [] {}).ok()) << "Unwatch did not free the fd";
}

}  // namespace
}  // namespace pgrt

namespace pgrt {
namespace {

// Simulated time: the loop runs against a FakeClock, so waits of tens of seconds (a lease,
// an idle timeout) are tested in milliseconds of real time.
class SimulatedTimeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.Init().ok()); }
  // One turn of the loop without waiting: runs what the clock made due.
  void Turn() { ASSERT_TRUE(loop_.RunOnce(Millis(0)).ok()); }
  FakeClock clock_;
  EventLoop loop_{clock_};
};

TEST_F(SimulatedTimeTest, AThirtySecondTimerFiresWhenTheClockPassesItsDeadlineNotBefore) {
  const auto real_start = std::chrono::steady_clock::now();
  bool fired = false;
  loop_.AddTimer(Millis(30000), [&] { fired = true; });
  Turn();
  EXPECT_FALSE(fired);
  clock_.Advance(Millis(29999));
  Turn();
  EXPECT_FALSE(fired) << "a millisecond early";
  clock_.Advance(Millis(1));
  Turn();
  EXPECT_TRUE(fired);
  EXPECT_LT(std::chrono::steady_clock::now() - real_start, Millis(1000));
}

TEST_F(SimulatedTimeTest, ALeaseRenewedEveryTenSecondsIsRenewedThreeTimesInThirty) {
  // The shape of a leader lease: renew, re-arm; a missed renewal lets it expire.
  int renewals = 0;
  std::function<void()> renew = [&] {
    ++renewals;
    loop_.AddTimer(Millis(10000), renew);
  };
  loop_.AddTimer(Millis(10000), renew);
  for (int second = 1; second <= 30; ++second) {
    clock_.Advance(Millis(1000));
    Turn();
  }
  EXPECT_EQ(renewals, 3);
}

TEST_F(SimulatedTimeTest, AJumpPastSeveralDeadlinesRunsThemInOrderInOneTurn) {
  std::vector<int> fired;
  loop_.AddTimer(Millis(20000), [&] { fired.push_back(20); });
  loop_.AddTimer(Millis(5000), [&] { fired.push_back(5); });
  loop_.AddTimer(Millis(60000), [&] { fired.push_back(60); });
  clock_.Advance(Millis(30000));
  Turn();
  EXPECT_EQ(fired, (std::vector<int>{5, 20}));
  // Lateness is measured against the fake clock too: the loop lag gauge stays honest.
  EXPECT_EQ(loop_.TakeWorstLag(), Millis(25000));
}

}  // namespace
}  // namespace pgrt
