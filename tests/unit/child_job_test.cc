// ChildJob against real processes (/bin/sh): steps run one after another on an event loop,
// each exit arriving as an event; a failing step ends the job with its stderr; Stop
// terminates the step's whole process group. The test reaps with waitpid(-1) on a short
// timer and hands the exits to the job, as pgrt's SIGCHLD handler does.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "process/job.h"
#include "scratch_dir.h"
#include "util/clock.h"

namespace pgrt {
namespace {

// The file's content; "" when it does not exist (yet).
std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class ChildJobTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.Init().ok()); }

  JobStep Sh(const std::string& script, std::function<Status(const std::string&)> after = {}) {
    JobStep s;
    s.spec.name = "sh " + script.substr(0, 20);
    s.spec.argv = {"/bin/sh", "-c", script};
    s.spec.env = {{"PATH", "/usr/bin:/bin"}};
    s.after = std::move(after);
    return s;
  }

  // Runs until the job is done (or `limit`); the job's final status.
  std::optional<Status> Run(ChildJob& job, Millis limit = Millis(10000)) {
    EXPECT_TRUE(job.Start().ok());
    Reap(job);
    EventLoop::TimerId guard = loop_.AddTimer(limit, [&] { loop_.Quit(); });
    EXPECT_TRUE(loop_.Run().ok());
    loop_.CancelTimer(guard);
    return done_;
  }

  void Reap(ChildJob& job) {
    loop_.AddTimer(Millis(2), [this, &job] {
      for (;;) {
        int ws = 0;
        pid_t pid = ::waitpid(-1, &ws, WNOHANG);
        if (pid <= 0) break;
        job.OnChildExit(pid, ws);
      }
      if (!done_) Reap(job);
    });
  }

  ChildJob::Done OnDone() {
    return [this](const Status& st) {
      done_ = st;
      loop_.Quit();
    };
  }

  test::ScratchDir dir_;
  RealClock clock_;
  EventLoop loop_{clock_};
  std::optional<Status> done_;
};

TEST_F(ChildJobTest, StepsRunInOrderAndEachSeesItsOwnStdout) {
  std::vector<std::string> seen;
  auto record = [&](const std::string& out) {
    seen.push_back(out);
    return Status::Ok();
  };
  std::vector<JobStep> steps;
  steps.push_back(Sh("echo one; echo noise >&2", record));
  steps.push_back(Sh("echo two", record));
  ChildJob job(loop_, "test", dir_ / "out", std::move(steps), OnDone());
  auto st = Run(job);
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->ok()) << st->message();
  EXPECT_EQ(seen, (std::vector<std::string>{"one\n", "two\n"}));
  EXPECT_FALSE(job.running());
}

TEST_F(ChildJobTest, AFailingStepEndsTheJobWithItsStderrAndSkipsTheRest) {
  bool later_ran = false;
  std::vector<JobStep> steps;
  steps.push_back(Sh("echo 'ERROR: [055]: no repository' >&2; exit 55"));
  steps.push_back(Sh("true", [&](const std::string&) {
    later_ran = true;
    return Status::Ok();
  }));
  ChildJob job(loop_, "test", dir_ / "out", std::move(steps), OnDone());
  auto st = Run(job);
  ASSERT_TRUE(st.has_value());
  ASSERT_FALSE(st->ok());
  EXPECT_NE(st->message().find("exited with code 55: ERROR: [055]: no repository"),
            std::string::npos)
      << st->message();
  EXPECT_FALSE(later_ran);
}

TEST_F(ChildJobTest, AnAfterStepErrorEndsTheJob) {
  std::vector<JobStep> steps;
  steps.push_back(Sh("echo not-json",
                     [](const std::string&) { return Status::Error("not what was expected"); }));
  ChildJob job(loop_, "test", dir_ / "out", std::move(steps), OnDone());
  auto st = Run(job);
  ASSERT_TRUE(st.has_value());
  EXPECT_NE(st->message().find("not what was expected"), std::string::npos) << st->message();
}

TEST_F(ChildJobTest, StopTerminatesTheWholeProcessGroupOfTheRunningStep) {
  std::vector<JobStep> steps;
  // A helper in the background, as pgBackRest's workers are: SIGTERM must reach it too.
  steps.push_back(Sh("sleep 30 & echo $! > '" + (dir_ / "helper") + "'; wait"));
  ChildJob job(loop_, "test", dir_ / "out", std::move(steps), OnDone());
  // Stop once the helper runs (its pid is written after it started).
  std::function<void()> stop_when_ready = [&] {
    if (Slurp(dir_ / "helper").find('\n') == std::string::npos)
      return void(loop_.AddTimer(Millis(10), stop_when_ready));
    job.Stop(Millis(5000), "stopped by the test");
  };
  loop_.AddTimer(Millis(10), stop_when_ready);
  const SteadyTime t0 = clock_.Now();
  auto st = Run(job);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->message(), "test: stopped by the test");
  EXPECT_LT(clock_.Now() - t0, Millis(3000));
  const pid_t helper = std::stoi(test::ReadText(dir_ / "helper"));
  auto gone = [helper] {  // or a zombie waiting for whoever reaps orphans here
    if (::kill(helper, 0) != 0) return true;
    return Slurp("/proc/" + std::to_string(helper) + "/stat").find(") Z ") != std::string::npos;
  };
  for (int i = 0; i < 200 && !gone(); ++i) ::usleep(10000);
  EXPECT_TRUE(gone()) << "helper " << helper << " outlived the job";
}

TEST_F(ChildJobTest, ATimeoutStopsTheJob) {
  std::vector<JobStep> steps;
  steps.push_back(Sh("exec sleep 30"));
  ChildJob job(loop_, "test", dir_ / "out", std::move(steps), OnDone());
  ASSERT_TRUE(job.Start(Millis(100)).ok());
  Reap(job);
  EventLoop::TimerId guard = loop_.AddTimer(Millis(5000), [&] { loop_.Quit(); });
  ASSERT_TRUE(loop_.Run().ok());
  loop_.CancelTimer(guard);
  ASSERT_TRUE(done_.has_value());
  EXPECT_EQ(done_->message(), "test: timed out");
}

}  // namespace
}  // namespace pgrt
