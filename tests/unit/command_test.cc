// RunCommand: one-shot commands run to completion as a step of a task on a real event loop,
// against real processes (capture, exit status, timeouts, cancellation by a termination
// signal that stops the process group).
#include "process/command.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>

#include "process_test_util.h"
#include "scratch_dir.h"
#include "task_rig.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

using process_test::GoneWithin;
using process_test::Sh;
using test::ReadText;
using test::ScratchDir;
using test::TaskRig;

class RunCommandTest : public ::testing::Test {
 protected:
  Result<CommandResult> Run(SpawnSpec spec, bool capture, Millis timeout,
                            std::function<void(std::string_view)> on_output = nullptr) {
    auto r = rig_.Run(RunCommand(rig_.tc, std::move(spec), capture, timeout, std::move(on_output)));
    if (!r) return Status::Error("the task did not finish");
    return std::move(*r);
  }
  TaskRig rig_;
};

TEST_F(RunCommandTest, CollectsStdoutAndStderrAndTheExitStatus) {
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
    auto r = Run(Sh(c.script), /*capture=*/true, Millis(5000));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->output, c.output);
    EXPECT_EQ(DescribeWaitStatus(r->wait_status), c.status);
  }
  EXPECT_EQ(rig_.reaped_elsewhere, 0) << "an exit went past ChildExits";
}

TEST_F(RunCommandTest, CollectsOutputLargerThanAPipeBufferAndShowsItPieceByPiece) {
  std::string seen;
  int pieces = 0;
  auto r = Run(Sh("head -c 300000 /dev/zero | tr '\\0' x"), true, Millis(5000),
               [&](std::string_view piece) {
                 seen.append(piece);
                 ++pieces;
               });
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(ExitedCleanly(r->wait_status));
  EXPECT_EQ(r->output, std::string(300000, 'x'));
  EXPECT_EQ(seen, r->output);
  EXPECT_GT(pieces, 1);
}

TEST_F(RunCommandTest, WithoutCaptureLeavesTheOutputWhereTheSpecSendsIt) {
  ScratchDir dir;
  UniqueFd out(::open((dir / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  ASSERT_TRUE(out);
  SpawnSpec spec = Sh("echo to-file");
  spec.stdout_fd = out.get();
  auto r = Run(spec, /*capture=*/false, Millis(5000));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(ExitedCleanly(r->wait_status));
  EXPECT_EQ(r->output, "");
  EXPECT_EQ(ReadText(dir / "out"), "to-file\n");
}

TEST_F(RunCommandTest, ResumesAsSoonAsTheCommandHasExited) {
  // Its wake-up is SIGCHLD on the loop (and EOF), not a poll: ten commands cost about what
  // ten plain fork/exec/waitpid rounds cost in the same moment.
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
    const SteadyTime start = rig_.clock.Now();
    for (int i = 0; i < 10; ++i) {
      SpawnSpec spec = Sh("");
      spec.argv = {"/bin/true"};
      auto r = Run(spec, capture, Millis(5000));
      ASSERT_TRUE(r.ok()) << r.status().message();
      ASSERT_TRUE(ExitedCleanly(r->wait_status));
    }
    const auto took = rig_.clock.Now() - start;
    EXPECT_LT(took, 2 * baseline + Millis(200))
        << "tasks " << std::chrono::duration_cast<Millis>(took).count() << " ms, plain "
        << std::chrono::duration_cast<Millis>(baseline).count() << " ms";
  }
}

TEST_F(RunCommandTest, FailsWhenTheCommandCannotStart) {
  SpawnSpec spec = Sh("");
  spec.argv = {"/nonexistent/pgrt-ghost"};
  auto r = Run(spec, true, Millis(5000));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exec /nonexistent/pgrt-ghost: No such file or directory"),
            std::string::npos)
      << r.status().message();
}

// The shell writes its pid and its helper's to `pids`, then waits for the helper.
SpawnSpec ShellWithHelper(const std::string& pids) {
  SpawnSpec spec = Sh("exec 3>" + pids + "; echo $$ >&3; sleep 30 & echo $! >&3; wait");
  return spec;
}

void ExpectGroupGone(const std::string& pids) {
  std::istringstream in(ReadText(pids));
  long shell = 0, helper = 0;
  ASSERT_TRUE(in >> shell >> helper);
  EXPECT_TRUE(GoneWithin(static_cast<pid_t>(shell))) << "the command survived";
  errno = 0;
  EXPECT_EQ(::waitpid(static_cast<pid_t>(shell), nullptr, WNOHANG), -1) << "not reaped";
  EXPECT_EQ(errno, ECHILD);
  EXPECT_TRUE(GoneWithin(static_cast<pid_t>(helper))) << "the helper survived";
}

TEST_F(RunCommandTest, KillsTheGroupOfACommandThatOutlivesItsTimeout) {
  for (bool capture : {true, false}) {
    SCOPED_TRACE(capture ? "captured" : "not captured");
    ScratchDir dir;
    const SteadyTime start = rig_.clock.Now();
    auto r = Run(ShellWithHelper(dir / "pids"), capture, Millis(300));
    const auto took = rig_.clock.Now() - start;
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsDeadlineExceeded());
    EXPECT_NE(r.status().message().find("sh: timed out"), std::string::npos)
        << r.status().message();
    EXPECT_GE(took, Millis(300));
    EXPECT_LT(took, Millis(3000));
    ExpectGroupGone(dir / "pids");
  }
}

TEST_F(RunCommandTest, ATerminationSignalMidCommandStopsItsProcessGroupAndSaysSo) {
  ScratchDir dir;
  // SIGTERM to this process once the command runs: the rig cancels the token.
  rig_.loop.AddTimer(Millis(100), [] { ::kill(::getpid(), SIGTERM); });
  const SteadyTime start = rig_.clock.Now();
  auto r = Run(ShellWithHelper(dir / "pids"), true, Millis(10000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "sh: interrupted by signal 15");
  // sh dies of SIGTERM at once: no 5 s grace, no wait for the 30 s sleep.
  EXPECT_LT(rig_.clock.Now() - start, Millis(3000)) << "waited for the command";
  ExpectGroupGone(dir / "pids");
}

TEST_F(RunCommandTest, ACommandThatIgnoresSigtermIsKilledAfterTheGrace) {
  ScratchDir dir;
  rig_.loop.AddTimer(Millis(100), [] { ::kill(::getpid(), SIGINT); });
  const SteadyTime start = rig_.clock.Now();
  auto r = Run(Sh("trap '' TERM; echo $$ > " + (dir / "pid") + "; while :; do sleep 0.05; done"),
               true, Millis(20000));
  const auto took = rig_.clock.Now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "sh: interrupted by signal 2");
  EXPECT_GE(took, Millis(5000));
  EXPECT_LT(took, Millis(8000));
  long pid = 0;
  std::istringstream(ReadText(dir / "pid")) >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(GoneWithin(static_cast<pid_t>(pid)));
}

TEST_F(RunCommandTest, IsRefusedOnceCancelled) {
  rig_.cancel.Cancel("interrupted by signal 15");
  ScratchDir dir;
  auto r = Run(Sh("touch " + (dir / "ran")), true, Millis(5000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "sh: interrupted by signal 15");
  EXPECT_FALSE(std::filesystem::exists(dir / "ran"));
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
