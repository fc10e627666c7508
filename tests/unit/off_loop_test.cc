// RunOffLoop: blocking work on a thread of its own, its result back on the loop, the
// deadline kept by the loop, and a worker that outlives its loop harming nothing.
#include "process/off_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

#include "process_test_util.h"

namespace pgrt {
namespace {

class OffLoopTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.Init().ok()); }
  RealClock clock_;
  EventLoop loop_{clock_};
};

TEST_F(OffLoopTest, TheResultArrivesOnTheLoopThreadWhileTheWorkRanElsewhere) {
  const auto loop_thread = std::this_thread::get_id();
  std::thread::id worked_on, delivered_on;
  std::optional<Result<int>> got;
  RunOffLoop<int>(
      loop_,
      [&]() -> Result<int> {
        worked_on = std::this_thread::get_id();
        return 42;
      },
      Millis(5000),
      [&](Result<int> r) {
        delivered_on = std::this_thread::get_id();
        got = std::move(r);
        loop_.Quit();
      });
  ASSERT_TRUE(process_test::RunLoopAtMost(loop_, Millis(5000)));
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok());
  EXPECT_EQ(**got, 42);
  EXPECT_NE(worked_on, loop_thread);
  EXPECT_EQ(delivered_on, loop_thread);
}

TEST_F(OffLoopTest, TheDeadlineWinsOverSlowWorkAndTheLateResultIsDropped) {
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> worker_done{false};
  int calls = 0;
  std::optional<Status> got;
  RunOffLoop<int>(
      loop_,
      [released, &worker_done]() -> Result<int> {
        released.wait();
        worker_done = true;
        return 1;
      },
      Millis(50),
      [&](Result<int> r) {
        ++calls;
        got = r.status();
      });
  // After the deadline, let the worker finish and give its late answer time to arrive.
  loop_.AddTimer(Millis(150), [&] { release.set_value(); });
  loop_.AddTimer(Millis(400), [&] { loop_.Quit(); });
  ASSERT_TRUE(process_test::RunLoopAtMost(loop_, Millis(5000)));
  EXPECT_TRUE(worker_done);
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->IsDeadlineExceeded()) << got->message();
}

TEST(OffLoop, AWorkerThatOutlivesItsLoopHarmsNothing) {
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> finished;
  auto worker_finished = finished.get_future();
  {
    RealClock clock;
    EventLoop loop(clock);
    ASSERT_TRUE(loop.Init().ok());
    RunOffLoop<int>(
        loop,
        [released, f = std::make_shared<std::promise<void>>(std::move(finished))]() -> Result<int> {
          released.wait();
          f->set_value();
          return 7;
        },
        Millis(10), [](Result<int>) {});
  }  // the loop is gone; the worker still waits
  release.set_value();
  EXPECT_EQ(worker_finished.wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

}  // namespace
}  // namespace pgrt
