// Supervisor driven by a real EventLoop and SignalSource, against real processes: restarts,
// backoff, the restart window, giving up, stopping (and escalating to SIGKILL).
//
// SignalSource::Install blocks the handled signals for the whole test process and makes it a
// child subreaper, exactly as pgrt runs; orphans of the services come to the loop's reaper.
#include "process/supervisor.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "process/event_loop.h"
#include "process/signals.h"
#include "process_test_util.h"
#include "scratch_dir.h"
#include "util/clock.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

using test::ScratchDir;

constexpr const char* kSvc = "svc";

ServiceSpec ShService(const std::string& script) {
  ServiceSpec spec;
  spec.spawn.name = kSvc;
  spec.spawn.argv = {"/bin/sh", "-c", script};
  spec.spawn.env = {{"PATH", "/usr/bin:/bin"}};
  spec.stop_timeout = Millis(5000);
  spec.backoff = {Millis(0)};
  return spec;
}

ServiceSpec SleepService() {
  ServiceSpec spec = ShService("");
  spec.spawn.argv = {"/bin/sleep", "30"};
  return spec;
}

// Everything a service reported, in order.
struct Recorder {
  std::vector<pid_t> starts;
  std::vector<SteadyTime> start_times;
  std::vector<int> exit_statuses;
  std::vector<bool> exit_expected;
  std::vector<SteadyTime> exit_times;
  std::optional<std::string> give_up;
  std::function<void()> after_start;  // extra step per start, e.g. quit the loop
  std::function<void()> after_exit;
  std::function<void()> after_give_up;

  ServiceEvents Events() {
    ServiceEvents e;
    e.on_start = [this](pid_t pid) {
      starts.push_back(pid);
      start_times.push_back(std::chrono::steady_clock::now());
      if (after_start) after_start();
    };
    e.on_exit = [this](int ws, bool expected) {
      exit_statuses.push_back(ws);
      exit_expected.push_back(expected);
      exit_times.push_back(std::chrono::steady_clock::now());
      if (after_exit) after_exit();
    };
    e.on_give_up = [this](const std::string& reason) {
      give_up = reason;
      if (after_give_up) after_give_up();
    };
    return e;
  }
};

using process_test::GoneWithin;

std::vector<pid_t> PidsIn(const std::string& path) {
  std::vector<pid_t> pids;
  std::ifstream in(path);
  for (long pid; in >> pid;) pids.push_back(static_cast<pid_t>(pid));
  return pids;
}

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_level_ = spdlog::get_level();
    spdlog::set_level(spdlog::level::off);  // every start and crash is logged; noise here
    auto signals = SignalSource::Install();
    ASSERT_TRUE(signals.ok()) << signals.status().message();
    signals_.emplace(std::move(*signals));
    ASSERT_TRUE(loop_.Init().ok());
    Status watched = loop_.Watch(signals_->fd(), [this] {
      signals_->ReadPending();
      for (auto [pid, ws] : ReapExited()) supervisor_.OnChildExit(pid, ws);
    });
    ASSERT_TRUE(watched.ok()) << watched.message();
  }
  void TearDown() override { spdlog::set_level(log_level_); }

  // Runs the loop until something quits it; false when `limit` passed first.
  bool RunAtMost(Millis limit = Millis(3000)) { return process_test::RunLoopAtMost(loop_, limit); }

  // Runs the loop for exactly `d` (to see that nothing more happens).
  void RunFor(Millis d) {
    loop_.AddTimer(d, [this] { loop_.Quit(); });
    ASSERT_TRUE(loop_.Run().ok());
  }

  void Quit() { loop_.Quit(); }

  spdlog::level::level_enum log_level_ = spdlog::level::info;
  RealClock clock_;
  EventLoop loop_{clock_};
  std::optional<SignalSource> signals_;
  Supervisor supervisor_{loop_};  // destroyed first: it kills and reaps what still runs
};

// ---------------------------------------------------------------------------------------
// Crashes

TEST_F(SupervisorTest, AServiceThatExitsIsRestartedUntilItIsGivenUp) {
  ServiceSpec spec = ShService("exit 7");
  spec.max_restarts = 2;
  spec.restart_window = Millis(60000);
  Recorder rec;
  rec.after_give_up = [this] { Quit(); };
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  ASSERT_TRUE(RunAtMost()) << "never gave up; starts: " << rec.starts.size();

  EXPECT_EQ(rec.starts.size(), 3u) << "the first start and two restarts";
  EXPECT_EQ(supervisor_.restarts(kSvc), 2);
  ASSERT_EQ(rec.exit_statuses.size(), 3u);
  for (size_t i = 0; i < rec.exit_statuses.size(); ++i) {
    EXPECT_EQ(DescribeWaitStatus(rec.exit_statuses[i]), "exited with code 7");
    EXPECT_FALSE(rec.exit_expected[i]);
  }
  ASSERT_TRUE(rec.give_up.has_value());
  EXPECT_NE(rec.give_up->find("svc failed 3 times within 60 s"), std::string::npos) << *rec.give_up;
  EXPECT_NE(rec.give_up->find("exited with code 7"), std::string::npos) << *rec.give_up;
  EXPECT_FALSE(supervisor_.pid(kSvc).has_value());

  RunFor(Millis(100));
  EXPECT_EQ(rec.starts.size(), 3u) << "restarted after giving up";
}

TEST_F(SupervisorTest, MaxRestartsZeroGivesUpAtTheFirstCrash) {
  ServiceSpec spec = SleepService();
  spec.max_restarts = 0;
  Recorder rec;
  rec.after_give_up = [this] { Quit(); };
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  // A signal nobody asked the supervisor for is a crash.
  ASSERT_TRUE(supervisor_.Signal(kSvc, SIGUSR1).ok());
  ASSERT_TRUE(RunAtMost());
  EXPECT_EQ(rec.starts.size(), 1u);
  ASSERT_EQ(rec.exit_statuses.size(), 1u);
  EXPECT_EQ(DescribeWaitStatus(rec.exit_statuses[0]),
            "killed by signal 10 (User defined signal 1)");
  EXPECT_FALSE(rec.exit_expected[0]);
  ASSERT_TRUE(rec.give_up.has_value());
  EXPECT_NE(rec.give_up->find("killed by signal 10"), std::string::npos) << *rec.give_up;
}

TEST_F(SupervisorTest, RestartsWaitForTheBackoffOfTheirCrashCount) {
  ServiceSpec spec = ShService("exit 1");
  spec.max_restarts = 5;
  spec.backoff = {Millis(0), Millis(300)};
  Recorder rec;
  rec.after_start = [&] {
    if (rec.starts.size() == 3) supervisor_.Stop(kSvc, SIGKILL, [this] { Quit(); });
  };
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  ASSERT_TRUE(RunAtMost());
  ASSERT_EQ(rec.starts.size(), 3u);
  ASSERT_GE(rec.exit_times.size(), 2u);
  auto first_delay = rec.start_times[1] - rec.exit_times[0];
  auto second_delay = rec.start_times[2] - rec.exit_times[1];
  EXPECT_GE(second_delay, Millis(300)) << "the second restart ignored its backoff";
  EXPECT_LT(first_delay, Millis(300)) << "the first restart waited for the second's backoff";
}

TEST_F(SupervisorTest, CrashesOlderThanTheRestartWindowAreForgiven) {
  // Crashes come >= 50 ms apart (the backoff); a 20 ms window never holds two of them.
  ServiceSpec spec = ShService("exit 1");
  spec.max_restarts = 1;
  spec.restart_window = Millis(20);
  spec.backoff = {Millis(50)};
  Recorder rec;
  rec.after_give_up = [this] { Quit(); };
  rec.after_start = [&] {
    if (rec.starts.size() == 4) supervisor_.Stop(kSvc, SIGKILL, [this] { Quit(); });
  };
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  ASSERT_TRUE(RunAtMost());
  EXPECT_FALSE(rec.give_up.has_value()) << *rec.give_up;
  EXPECT_EQ(rec.starts.size(), 4u);
  EXPECT_EQ(supervisor_.restarts(kSvc), 3);
}

TEST_F(SupervisorTest, AFailingBeforeStartCountsAsACrash) {
  ServiceSpec spec = ShService("exit 0");
  spec.max_restarts = 2;
  int calls = 0;
  spec.before_start = [&calls](ServiceSpec::DoneCallback done) {
    if (++calls == 1) return done(Status::Ok());
    done(Status::Error("remove stale lock: Permission denied"));
  };
  Recorder rec;
  rec.after_give_up = [this] { Quit(); };
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  ASSERT_TRUE(RunAtMost());
  EXPECT_EQ(rec.starts.size(), 1u) << "started although before_start failed";
  EXPECT_EQ(calls, 3);
  ASSERT_TRUE(rec.give_up.has_value());
  EXPECT_NE(rec.give_up->find("remove stale lock: Permission denied"), std::string::npos)
      << *rec.give_up;
}

TEST_F(SupervisorTest, AnAsynchronousBeforeStartSpawnsOnlyOnceItIsDone) {
  ServiceSpec spec = SleepService();
  SteadyTime prepared_at{};
  spec.before_start = [&](ServiceSpec::DoneCallback done) {
    loop_.AddTimer(Millis(100), [&, done = std::move(done)] {
      prepared_at = clock_.Now();
      done(Status::Ok());
    });
  };
  Recorder rec;
  rec.after_start = [this] { Quit(); };
  supervisor_.Add(kSvc, spec, rec.Events());
  const SteadyTime asked = clock_.Now();
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  EXPECT_TRUE(rec.starts.empty()) << "spawned before before_start was done";
  EXPECT_FALSE(supervisor_.pid(kSvc).has_value());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok()) << "a second Start while preparing";
  ASSERT_TRUE(RunAtMost());
  ASSERT_EQ(rec.starts.size(), 1u) << "the second Start spawned a second child";
  EXPECT_GE(rec.start_times[0], prepared_at);
  EXPECT_GE(rec.start_times[0] - asked, Millis(100));
  supervisor_.Stop(kSvc, SIGKILL, [this] { Quit(); });
  ASSERT_TRUE(RunAtMost());
}

TEST_F(SupervisorTest, AnAsynchronousBeforeStartFailureCountsAsACrash) {
  ServiceSpec spec = ShService("exit 0");
  spec.max_restarts = 1;
  int calls = 0;
  spec.before_start = [&](ServiceSpec::DoneCallback done) {
    bool fail = ++calls > 1;
    loop_.AddTimer(Millis(5), [fail, done = std::move(done)] {
      done(fail ? Status::Error("leftovers did not exit") : Status::Ok());
    });
  };
  Recorder rec;
  rec.after_give_up = [this] { Quit(); };
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  ASSERT_TRUE(RunAtMost());
  EXPECT_EQ(rec.starts.size(), 1u);
  EXPECT_EQ(calls, 2);
  ASSERT_TRUE(rec.give_up.has_value());
  EXPECT_NE(rec.give_up->find("start svc: leftovers did not exit"), std::string::npos)
      << *rec.give_up;
}

TEST_F(SupervisorTest, StopWhileBeforeStartRunsIsDoneAtOnceAndSpawnsNothing) {
  ServiceSpec spec = SleepService();
  spec.before_start = [&](ServiceSpec::DoneCallback done) {
    loop_.AddTimer(Millis(50), [done = std::move(done)] { done(Status::Ok()); });
  };
  Recorder rec;
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  bool stopped = false;
  supervisor_.Stop(kSvc, 0, [&] { stopped = true; });
  EXPECT_TRUE(stopped);
  RunFor(Millis(150));
  EXPECT_TRUE(rec.starts.empty()) << "spawned after Stop";
}

// ---------------------------------------------------------------------------------------
// Lasting faults (a full disk): not a crash loop

TEST_F(SupervisorTest, ExitsDuringALastingFaultAreNotCountedAndRetriedWithCappedBackoff) {
  ServiceSpec spec = ShService("exit 1");
  spec.max_restarts = 1;
  // The cap far above the first step: a loaded machine's late timers do not blur them.
  spec.fault_backoff = {Millis(20), Millis(250)};
  bool fault = true;
  spec.lasting_fault = [&]() -> std::optional<std::string> {
    if (!fault) return std::nullopt;
    return "disk full: the data volume has 0 B available";
  };
  Recorder rec;
  rec.after_start = [&] {
    if (rec.starts.size() == 6) fault = false;  // fixed: from now on exits are crashes
  };
  rec.after_give_up = [this] { Quit(); };
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  ASSERT_TRUE(RunAtMost(Millis(5000)));

  // Five exits under the fault, then the crashes count: max_restarts 1 gives up at the second.
  EXPECT_EQ(rec.starts.size(), 7u);
  ASSERT_TRUE(rec.give_up.has_value());
  EXPECT_NE(rec.give_up->find("failed 2 times"), std::string::npos) << *rec.give_up;
  ASSERT_GE(rec.exit_times.size(), 5u);
  EXPECT_GE(rec.start_times[1] - rec.exit_times[0], Millis(20));
  EXPECT_LT(rec.start_times[1] - rec.exit_times[0], Millis(250)) << "the first try waited longest";
  for (size_t i = 2; i < 5; ++i)
    EXPECT_GE(rec.start_times[i] - rec.exit_times[i - 1], Millis(250))
        << "try " << i << " ignored the cap of the backoff";
}

TEST_F(SupervisorTest, RetryNowCutsTheWaitOfAFaultShort) {
  ServiceSpec spec = ShService("exit 1");
  spec.fault_backoff = {Millis(30000)};
  spec.lasting_fault = [] { return std::optional<std::string>("read-only file system"); };
  Recorder rec;
  rec.after_exit = [&] {
    if (rec.exit_statuses.size() == 1)
      loop_.AddTimer(Millis(100), [this] {
        EXPECT_EQ(supervisor_.fault_restarts(kSvc), 1);
        supervisor_.RetryNow(kSvc);
      });
  };
  rec.after_start = [&] {
    if (rec.starts.size() == 2) supervisor_.Stop(kSvc, SIGKILL, [this] { Quit(); });
  };
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  ASSERT_TRUE(RunAtMost(Millis(5000))) << "RetryNow did not restart";
  ASSERT_EQ(rec.starts.size(), 2u);
  EXPECT_LT(rec.start_times[1] - rec.exit_times[0], Millis(2000));
  EXPECT_FALSE(rec.give_up.has_value());
}

TEST_F(SupervisorTest, RetryNowWithoutAPendingRestartDoesNothing) {
  Recorder rec;
  supervisor_.Add(kSvc, SleepService(), rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  auto pid = supervisor_.pid(kSvc);
  supervisor_.RetryNow(kSvc);
  supervisor_.RetryNow("unknown");
  EXPECT_EQ(supervisor_.pid(kSvc), pid);
  EXPECT_EQ(rec.starts.size(), 1u);
}

TEST_F(SupervisorTest, AnUnexpectedExitKillsTheRestOfItsGroupBeforeRestarting) {
  ScratchDir dir;
  UniqueFd pids(::open((dir / "pids").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  ASSERT_TRUE(pids);
  // Each run leaves a helper behind, like the backends of a crashed postmaster.
  ServiceSpec spec = ShService("sleep 30 & echo $!; exit 1");
  spec.spawn.stdout_fd = pids.get();
  spec.max_restarts = 1;
  Recorder rec;
  std::optional<bool> first_helper_gone_at_restart;
  rec.after_start = [&] {
    if (rec.starts.size() != 2) return;
    std::vector<pid_t> helpers = PidsIn(dir / "pids");
    if (helpers.empty()) return;
    first_helper_gone_at_restart = ::kill(helpers[0], 0) != 0 && errno == ESRCH;
  };
  rec.after_give_up = [this] { Quit(); };
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  ASSERT_TRUE(RunAtMost());

  std::vector<pid_t> helpers = PidsIn(dir / "pids");
  ASSERT_EQ(helpers.size(), 2u);
  ASSERT_TRUE(first_helper_gone_at_restart.has_value());
  EXPECT_TRUE(*first_helper_gone_at_restart) << "restarted while the old helper still ran";
  // Giving up is an unexpected exit too: nothing of the last run may outlive it.
  bool last_gone = GoneWithin(helpers[1], Millis(500));
  EXPECT_TRUE(last_gone) << "helper " << helpers[1] << " survived the give-up";
  if (!last_gone) {
    ::kill(helpers[1], SIGKILL);  // do not leak it past this test
    GoneWithin(helpers[1]);
  }
}

// ---------------------------------------------------------------------------------------
// Stopping

struct StopCase {
  int spec_signal;
  int stop_signal;  // 0: the spec's
  const char* described;
};

class SupervisorStopTest : public SupervisorTest, public ::testing::WithParamInterface<StopCase> {};

TEST_P(SupervisorStopTest, StopSendsTheStopSignalAndReportsAnExpectedExit) {
  const StopCase& c = GetParam();
  ServiceSpec spec = SleepService();
  spec.stop_signal = c.spec_signal;
  spec.stop_timeout = Millis(5000);
  Recorder rec;
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());

  bool done = false;
  const SteadyTime asked = clock_.Now();
  supervisor_.Stop(kSvc, c.stop_signal, [&] {
    done = true;
    Quit();
  });
  ASSERT_TRUE(RunAtMost());
  EXPECT_TRUE(done);
  EXPECT_LT(clock_.Now() - asked, Millis(2000)) << "waited for the stop timeout";
  ASSERT_EQ(rec.exit_statuses.size(), 1u);
  EXPECT_EQ(DescribeWaitStatus(rec.exit_statuses[0]), c.described);
  EXPECT_TRUE(rec.exit_expected[0]);
  EXPECT_FALSE(supervisor_.pid(kSvc).has_value());

  RunFor(Millis(50));
  EXPECT_EQ(rec.starts.size(), 1u) << "a stopped service was restarted";
  EXPECT_EQ(supervisor_.restarts(kSvc), 0);
  EXPECT_FALSE(rec.give_up.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Signals, SupervisorStopTest,
    ::testing::Values(StopCase{SIGTERM, 0, "killed by signal 15 (Terminated)"},
                      StopCase{SIGINT, 0, "killed by signal 2 (Interrupt)"},
                      StopCase{SIGTERM, SIGUSR1, "killed by signal 10 (User defined signal 1)"}),
    // Stable names: the default prints the struct's bytes, a pointer among them, so the
    // names ctest discovered would not match the next run's under ASLR.
    [](const ::testing::TestParamInfo<StopCase>& info) {
      return "Case" + std::to_string(info.index);
    });

TEST_F(SupervisorTest, StopEscalatesToSigkillWhenTheStopSignalIsIgnored) {
  UniqueFd read_end, write_end;
  {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
  }
  ServiceSpec spec = ShService("trap '' TERM; sleep 30 & echo $!; wait");
  spec.spawn.stdout_fd = write_end.get();
  spec.stop_timeout = Millis(200);
  Recorder rec;
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  write_end.reset();

  // The helper's pid is printed after the trap is set: SIGTERM cannot beat it.
  std::string line;
  for (int i = 0; i < 300 && (line.empty() || line.back() != '\n'); ++i) {
    pollfd p{read_end.get(), POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    char c;
    if (::read(read_end.get(), &c, 1) != 1) break;
    line += c;
  }
  ASSERT_FALSE(line.empty()) << "the service never started its helper";
  const pid_t helper = static_cast<pid_t>(std::stol(line));

  bool done = false;
  const SteadyTime asked = clock_.Now();
  SteadyTime done_at{};
  supervisor_.Stop(kSvc, 0, [&] {
    done = true;
    done_at = clock_.Now();
    Quit();
  });
  ASSERT_TRUE(RunAtMost());
  ASSERT_TRUE(done);
  EXPECT_GE(done_at - asked, Millis(200)) << "killed before the stop timeout";
  EXPECT_LT(done_at - asked, Millis(2000));
  ASSERT_EQ(rec.exit_statuses.size(), 1u);
  EXPECT_EQ(DescribeWaitStatus(rec.exit_statuses[0]), "killed by signal 9 (Killed)");
  EXPECT_TRUE(rec.exit_expected[0]);
  EXPECT_TRUE(GoneWithin(helper)) << "the SIGKILL missed the rest of the group";
}

TEST_F(SupervisorTest, StopOfAServiceThatIsNotRunningIsDoneAtOnce) {
  Recorder rec;
  supervisor_.Add(kSvc, SleepService(), rec.Events());
  int done = 0;
  supervisor_.Stop(kSvc, 0, [&] { ++done; });  // added, never started
  supervisor_.Stop("unknown", 0, [&] { ++done; });
  EXPECT_EQ(done, 2) << "done must not wait for the loop";
  EXPECT_TRUE(rec.exit_statuses.empty());
}

TEST_F(SupervisorTest, StopDuringTheBackoffCancelsThePendingRestart) {
  ServiceSpec spec = ShService("exit 1");
  spec.backoff = {Millis(150)};
  Recorder rec;
  bool done = false;
  rec.after_exit = [&] {
    loop_.AddTimer(Millis(30), [&] { supervisor_.Stop(kSvc, 0, [&] { done = true; }); });
  };
  supervisor_.Add(kSvc, spec, rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  RunFor(Millis(250));
  EXPECT_TRUE(done);
  EXPECT_EQ(rec.starts.size(), 1u) << "restarted although stopped";
  EXPECT_EQ(supervisor_.restarts(kSvc), 0);
}

// ---------------------------------------------------------------------------------------
// Starting and signalling

TEST_F(SupervisorTest, StartingARunningServiceIsANoOp) {
  Recorder rec;
  supervisor_.Add(kSvc, SleepService(), rec.Events());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  auto pid = supervisor_.pid(kSvc);
  ASSERT_TRUE(pid.has_value());
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  EXPECT_EQ(supervisor_.pid(kSvc), pid);
  EXPECT_EQ(rec.starts, std::vector<pid_t>{*pid});
}

TEST_F(SupervisorTest, StartFailsWithAMessageNamingTheService) {
  struct Case {
    std::string name;
    std::vector<std::string> argv;
    std::string message_part;
  };
  const Case kCases[] = {
      {"unknown", {}, "start unknown: unknown service"},
      {kSvc, {"/nonexistent/pgrt-ghost"}, "start svc: spawn svc: exec /nonexistent/pgrt-ghost"},
  };
  ServiceSpec spec = SleepService();
  spec.spawn.argv = {"/nonexistent/pgrt-ghost"};
  supervisor_.Add(kSvc, spec, {});
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Status st = supervisor_.Start(c.name);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find(c.message_part), std::string::npos) << st.message();
  }
}

TEST_F(SupervisorTest, SignalOfAServiceThatIsNotRunningFails) {
  supervisor_.Add(kSvc, SleepService(), {});
  Status st = supervisor_.Signal(kSvc, SIGHUP);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "signal svc: not running");
  EXPECT_FALSE(supervisor_.Signal("unknown", SIGHUP).ok());
}

TEST_F(SupervisorTest, OnChildExitIgnoresPidsOfNoService) {
  supervisor_.Add(kSvc, SleepService(), {});
  ASSERT_TRUE(supervisor_.Start(kSvc).ok());
  EXPECT_FALSE(supervisor_.OnChildExit(*supervisor_.pid(kSvc) + 100000, 0));
  EXPECT_TRUE(supervisor_.pid(kSvc).has_value());
}

}  // namespace
}  // namespace pgrt
