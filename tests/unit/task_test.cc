// Task<T> and the awaitables on a real EventLoop: completion order, symmetric transfer, a
// child's exit resuming a task, time-outs, cancellation, work off the loop resuming on the
// loop's thread, and a task destroyed while suspended leaving nothing behind.
#include "process/task.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "process/awaitables.h"
#include "process/command.h"
#include "process_test_util.h"
#include "task_rig.h"

namespace pgrt {
namespace {

using process_test::GoneWithin;
using process_test::Sh;
using test::TaskRig;

// ---------------------------------------------------------------------------------------
// Task

Task<int> Immediate(int v) { co_return v; }

Task<Status> Steps(std::vector<std::string>& log) {
  log.push_back("outer begins");
  int a = co_await Immediate(1);
  log.push_back("inner gave " + std::to_string(a));
  int b = co_await Immediate(2);
  log.push_back("inner gave " + std::to_string(b));
  co_return Status::Ok();
}

TEST(Task, IsLazyAndRunsItsStepsInOrderOnceStarted) {
  std::vector<std::string> log;
  Task<Status> task = Steps(log);
  EXPECT_TRUE(log.empty()) << "a task must not run before it is awaited or started";
  bool done = false;
  TaskHandle h = StartTask<Status>(std::move(task), [&](Status st) {
    EXPECT_TRUE(st.ok());
    log.push_back("done");
    done = true;
  });
  EXPECT_TRUE(done) << "nothing waited, so it finished inside StartTask";
  EXPECT_EQ(log,
            (std::vector<std::string>{"outer begins", "inner gave 1", "inner gave 2", "done"}));
}

Task<long> SumOfManySteps(int n) {
  long sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await Immediate(1);
  co_return sum;
}

TEST(Task, AwaitingManyTasksThatFinishAtOnceDoesNotGrowTheStack) {
  // Without symmetric transfer each finished step would resume its caller from inside the
  // step's own frame: a million of them would overflow the stack.
#if defined(__SANITIZE_THREAD__)
  // The transfer is a tail call, which ThreadSanitizer's instrumentation prevents.
  GTEST_SKIP() << "no tail calls under ThreadSanitizer";
#endif
  std::optional<long> sum;
  TaskHandle h = StartTask<long>(SumOfManySteps(1000000), [&](long v) { sum = v; });
  ASSERT_TRUE(sum.has_value());
  EXPECT_EQ(*sum, 1000000);
}

Task<Result<std::string>> Fails() { co_return Status::NotFound("no such thing"); }

Task<Status> PropagatesWithContext() {
  auto r = co_await Fails();
  PGRT_CO_RETURN_IF_ERROR(r, "looking it up");
  co_return Status::Ok();
}

TEST(Task, ErrorsTravelAsValuesWithContextAndCode) {
  std::optional<Status> out;
  TaskHandle h = StartTask<Status>(PropagatesWithContext(), [&](Status st) { out = st; });
  ASSERT_TRUE(out.has_value());
  EXPECT_TRUE(out->IsNotFound());
  EXPECT_EQ(out->message(), "looking it up: no such thing");
}

TEST(Task, DoneMayDestroyItsOwnHandle) {
  TaskRig rig;
  auto holder = std::make_unique<TaskHandle>();
  bool done = false;
  *holder = StartTask<Status>(Sleep(rig.tc, Millis(5), "nap"), [&](Status st) {
    EXPECT_TRUE(st.ok());
    holder.reset();  // the root frame goes while its `done` runs
    done = true;
    rig.loop.Quit();
  });
  rig.TurnFor(Millis(2000));
  EXPECT_TRUE(done);
}

// ---------------------------------------------------------------------------------------
// Sleep, PollUntil

Task<Status> TwoNaps(const TaskContext& tc, std::vector<std::string>& log, std::string name,
                     Millis first, Millis second) {
  PGRT_CO_RETURN_IF_ERROR(co_await Sleep(tc, first, name), name);
  log.push_back(name + " 1");
  PGRT_CO_RETURN_IF_ERROR(co_await Sleep(tc, second, name), name);
  log.push_back(name + " 2");
  co_return Status::Ok();
}

TEST(Awaitables, TasksOnOneLoopInterleaveByTheirTimers) {
  TaskRig rig;
  std::vector<std::string> log;
  int finished = 0;
  auto count = [&](Status st) {
    EXPECT_TRUE(st.ok()) << st.message();
    if (++finished == 2) rig.loop.Quit();
  };
  TaskHandle a = StartTask<Status>(TwoNaps(rig.tc, log, "a", Millis(10), Millis(60)), count);
  TaskHandle b = StartTask<Status>(TwoNaps(rig.tc, log, "b", Millis(40), Millis(60)), count);
  EXPECT_TRUE(log.empty());
  rig.TurnFor(Millis(3000));
  EXPECT_EQ(finished, 2);
  EXPECT_EQ(log, (std::vector<std::string>{"a 1", "b 1", "a 2", "b 2"}));
}

TEST(Awaitables, PollUntilLooksFirstThenEveryStep) {
  TaskRig rig;
  int looks = 0;
  auto st = rig.Run(PollUntil(
      rig.tc, [&] { return ++looks == 3; }, Millis(2000), Millis(5), "x"));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->ok()) << st->message();
  EXPECT_EQ(looks, 3);
}

TEST(Awaitables, PollUntilTimesOutNamingWhatItWaitedFor) {
  TaskRig rig;
  const SteadyTime start = rig.clock.Now();
  auto st = rig.Run(PollUntil(
      rig.tc, [] { return false; }, Millis(100), Millis(10), "godot"));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->IsDeadlineExceeded());
  EXPECT_EQ(st->message(), "godot: timed out");
  EXPECT_GE(rig.clock.Now() - start, Millis(100));
  EXPECT_LT(rig.clock.Now() - start, Millis(2000));
}

TEST(Awaitables, ATerminationSignalEndsASleepAtOnceWithAnErrorThatSaysSo) {
  TaskRig rig;
  rig.loop.AddTimer(Millis(20), [] { ::kill(::getpid(), SIGTERM); });
  const SteadyTime start = rig.clock.Now();
  auto st = rig.Run(Sleep(rig.tc, Millis(30000), "a long nap"));
  ASSERT_TRUE(st.has_value()) << "the sleep was not cancelled";
  EXPECT_EQ(st->message(), "a long nap: interrupted by signal 15");
  EXPECT_LT(rig.clock.Now() - start, Millis(2000));
}

// ---------------------------------------------------------------------------------------
// WaitExit

TEST(Awaitables, AChildsExitResumesTheTaskWaitingForIt) {
  TaskRig rig;
  auto child = LoopChild::Spawn(rig.exits, Sh("sleep 0.05; exit 2"));
  ASSERT_TRUE(child.ok()) << child.status().message();
  const SteadyTime start = rig.clock.Now();
  auto ws = rig.Run(WaitExit(rig.tc, *child, Millis(5000)));
  ASSERT_TRUE(ws.has_value());
  ASSERT_TRUE(ws->ok()) << ws->status().message();
  EXPECT_EQ(DescribeWaitStatus(**ws), "exited with code 2");
  EXPECT_FALSE(child->running());
  EXPECT_LT(rig.clock.Now() - start, Millis(1000));
  EXPECT_EQ(rig.reaped_elsewhere, 0);
}

TEST(Awaitables, AnExitWhileNobodyWaitsIsRecordedInTheChild) {
  TaskRig rig;
  auto child = LoopChild::Spawn(rig.exits, Sh("exit 7"));
  ASSERT_TRUE(child.ok()) << child.status().message();
  auto st = rig.Run(PollUntil(
      rig.tc, [&] { return !child->running(); }, Millis(3000), Millis(5), "the exit"));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->ok()) << st->message();
  EXPECT_EQ(DescribeWaitStatus(*child->child().exit_status()), "exited with code 7");
}

TEST(Awaitables, WaitExitTimesOutAndLeavesTheChildRunning) {
  TaskRig rig;
  auto child = LoopChild::Spawn(rig.exits, Sh("exec sleep 30"));
  ASSERT_TRUE(child.ok()) << child.status().message();
  auto ws = rig.Run(WaitExit(rig.tc, *child, Millis(100)));
  ASSERT_TRUE(ws.has_value());
  ASSERT_FALSE(ws->ok());
  EXPECT_EQ(ws->status().message(), "wait for sh: timed out");
  EXPECT_TRUE(child->running());
  const pid_t pid = child->pid();
  EXPECT_EQ(::kill(pid, 0), 0);
  child = Status::Error("gone");  // the LoopChild's destructor kills and reaps it
  EXPECT_TRUE(GoneWithin(pid));
}

// ---------------------------------------------------------------------------------------
// OffThread

TEST(Awaitables, OffThreadWorkResumesTheTaskOnTheLoopsThread) {
  TaskRig rig;
  const std::thread::id loop_thread = std::this_thread::get_id();
  auto work_thread = std::make_shared<std::thread::id>();
  std::thread::id resumed_on;
  auto task = [](const TaskContext& tc, std::shared_ptr<std::thread::id> work_thread,
                 std::thread::id& resumed_on) -> Task<Status> {
    // Named first: a closure made inside a co_await's expression is destroyed twice by
    // GCC 12 (process/task.h).
    std::function<Status()> work = [work_thread] {
      *work_thread = std::this_thread::get_id();
      return Status::Error("it failed");
    };
    Status st = co_await OffThread(tc, std::move(work), Millis(5000), "work");
    resumed_on = std::this_thread::get_id();
    co_return st;
  };
  auto st = rig.Run(task(rig.tc, work_thread, resumed_on));
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->message(), "it failed");
  EXPECT_NE(*work_thread, loop_thread);
  EXPECT_EQ(resumed_on, loop_thread);
}

TEST(Awaitables, OffThreadKeepsTheLoopTurningWhileTheWorkBlocks) {
  TaskRig rig;
  auto timer_ran = std::make_shared<std::atomic<bool>>(false);
  rig.loop.AddTimer(Millis(20), [timer_ran] { *timer_ran = true; });
  auto st = rig.Run(OffThread(
      rig.tc,
      [timer_ran] {
        for (int i = 0; i < 300 && !*timer_ran; ++i) std::this_thread::sleep_for(Millis(10));
        return *timer_ran ? Status::Ok() : Status::Error("the loop stood still");
      },
      Millis(5000), "work"));
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->ok()) << st->message();
}

TEST(Awaitables, OffThreadTimesOutOrIsCancelledWithoutWaitingForTheWork) {
  for (bool cancel : {false, true}) {
    SCOPED_TRACE(cancel ? "cancelled" : "timed out");
    TaskRig rig;
    if (cancel) rig.loop.AddTimer(Millis(50), [] { ::kill(::getpid(), SIGTERM); });
    const SteadyTime start = rig.clock.Now();
    auto st = rig.Run(OffThread(
        rig.tc,
        [] {
          std::this_thread::sleep_for(Millis(1500));
          return Status::Ok();
        },
        cancel ? Millis(0) : Millis(100), "slow work"));
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->message(),
              cancel ? "slow work: interrupted by signal 15" : "slow work: timed out");
    EXPECT_LT(rig.clock.Now() - start, Millis(1000));
  }
}

// ---------------------------------------------------------------------------------------
// AwaitCallback

TEST(Awaitables, AwaitCallbackResumesWithTheValueAndDropsALateOne) {
  TaskRig rig;
  std::function<void(int)> keep;
  auto r = rig.Run(AwaitCallback<int>(
      rig.tc,
      [&](std::function<void(int)> resolve) {
        keep = resolve;
        rig.loop.AddTimer(Millis(10), [resolve] { resolve(42); });
      },
      "answer"));
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok());
  EXPECT_EQ(**r, 42);
  keep(7);  // the task is gone: nothing happens
}

// ---------------------------------------------------------------------------------------
// Destroyed while suspended

// Counts the frames alive: a frame destroyed while suspended must take its locals with it.
struct Alive {
  explicit Alive(int& n) : n(n) { ++n; }
  ~Alive() { --n; }
  int& n;
};

Task<Status> HoldsAChildAndATimer(const TaskContext& tc, int& alive, pid_t& pid) {
  Alive a(alive);
  auto child = LoopChild::Spawn(tc.exits, Sh("exec sleep 30"));
  if (!child.ok()) co_return child.status();
  pid = child->pid();
  Alive b(alive);
  auto ws = co_await WaitExit(tc, *child, Millis(60000));
  co_return ws.status();
}

Task<Status> Outer(const TaskContext& tc, int& alive, pid_t& pid, bool& resumed) {
  Alive a(alive);
  Status st = co_await HoldsAChildAndATimer(tc, alive, pid);
  resumed = true;
  co_return st;
}

TEST(Task, DestroyedWhileSuspendedItLeaksNothingAndKillsItsChild) {
  TaskRig rig;
  int alive = 0;
  pid_t pid = -1;
  bool resumed = false, done = false;
  TaskHandle h =
      StartTask<Status>(Outer(rig.tc, alive, pid, resumed), [&](Status) { done = true; });
  rig.TurnFor(Millis(20));
  ASSERT_GT(pid, 0);
  EXPECT_EQ(alive, 3);
  h.reset();
  EXPECT_EQ(alive, 0) << "a frame or a local outlived the task";
  EXPECT_TRUE(GoneWithin(pid)) << "the child outlived its task";
  // Nothing of the task is left on the loop: its cancel registration, timer and exit watch
  // went with it (a SIGTERM now must not resume a destroyed frame).
  ::kill(::getpid(), SIGTERM);
  rig.TurnFor(Millis(50));
  EXPECT_TRUE(rig.cancel.cancelled());
  EXPECT_FALSE(resumed);
  EXPECT_FALSE(done);
}

TEST(Task, ACommandDestroyedMidRunIsKilledWithItsGroup) {
  TaskRig rig;
  pid_t pid = -1;
  TaskHandle h = StartTask<Result<CommandResult>>(
      RunCommand(rig.tc, Sh("echo $$; exec sleep 30"), /*capture=*/true, Millis(0),
                 [&](std::string_view out) { pid = std::stoi(std::string(out)); }),
      [](Result<CommandResult>) { ADD_FAILURE() << "it finished"; });
  for (int i = 0; i < 100 && pid <= 0; ++i) rig.TurnFor(Millis(10));
  ASSERT_GT(pid, 0);
  h.reset();
  EXPECT_TRUE(GoneWithin(pid));
  rig.TurnFor(Millis(20));  // its pipe's watch is gone: no callback on a closed descriptor
}

}  // namespace
}  // namespace pgrt
