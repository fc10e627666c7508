// Child against real processes: how it spawns (environment, fds, cwd, process group, signal
// reset, dropped privileges), how it reports exits, and that it never leaves one behind.
#include "process/child.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "process/user.h"
#include "process_test_util.h"
#include "scratch_dir.h"
#include "util/clock.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

using process_test::Sh;
using test::ReadText;
using test::ScratchDir;
using test::SplitLines;

SpawnSpec Program(std::vector<std::string> argv) {
  SpawnSpec spec;
  spec.name = argv[0];
  spec.argv = std::move(argv);
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  return spec;
}

UniqueFd CreateFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  EXPECT_TRUE(fd) << "open " << path << ": " << std::strerror(errno);
  return fd;
}

// Reaps the child within `limit`; nullopt when it is still running then (its destructor
// kills it, so a test that fails here does not hang).
std::optional<int> WaitBounded(Child& child, Millis limit = Millis(3000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int ws = 0;
    pid_t r = ::waitpid(child.pid(), &ws, WNOHANG);
    if (r == child.pid()) {
      child.MarkExited(ws);
      return ws;
    }
    if (r < 0) {
      ADD_FAILURE() << "waitpid " << child.pid() << ": " << std::strerror(errno);
      return std::nullopt;
    }
    std::this_thread::sleep_for(Millis(2));
  }
  ADD_FAILURE() << child.name() << " still running after " << limit.count() << " ms";
  return std::nullopt;
}

// Runs `spec` to its end (bounded) and returns the wait status; -1 when it did not end.
int RunToExit(const SpawnSpec& spec) {
  auto child = Child::Spawn(spec);
  EXPECT_TRUE(child.ok()) << child.status().message();
  if (!child.ok()) return -1;
  return WaitBounded(*child).value_or(-1);
}

// True when no process `pid` is left but maybe a zombie nobody reaped yet (an orphan's
// zombie belongs to init, which this test cannot reap). Reaps it when it is ours.
bool GoneWithin(pid_t pid, Millis limit = Millis(3000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  const std::string stat = "/proc/" + std::to_string(pid) + "/stat";
  while (std::chrono::steady_clock::now() < deadline) {
    ::waitpid(pid, nullptr, WNOHANG);  // ECHILD when it is not ours: nothing to reap
    std::ifstream in(stat);
    if (!in) return true;
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t paren = text.rfind(')');
    if (paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z')
      return true;
    std::this_thread::sleep_for(Millis(2));
  }
  return false;
}

// Reads one line from `fd` within `limit` (a child announcing it is ready, or a pid).
std::string ReadLineBounded(int fd, Millis limit = Millis(3000)) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    char c;
    if (::read(fd, &c, 1) != 1) break;
    if (c == '\n') return line;
    line += c;
  }
  ADD_FAILURE() << "no line from the child within " << limit.count() << " ms (got '" << line
                << "')";
  return line;
}

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
  UniqueFd read, write;
};

// Starts `sh -c 'sleep 30 & echo $!; wait'` and returns the child plus its helper's pid.
std::pair<std::optional<Child>, pid_t> SpawnWithHelper() {
  Pipe out;
  SpawnSpec spec = Sh("sleep 30 & echo $!; wait");
  spec.stdout_fd = out.write.get();
  auto child = Child::Spawn(spec);
  EXPECT_TRUE(child.ok()) << child.status().message();
  if (!child.ok()) return {std::nullopt, -1};
  out.write.reset();
  std::string line = ReadLineBounded(out.read.get());
  pid_t helper = line.empty() ? -1 : static_cast<pid_t>(std::stoi(line));
  return {std::move(*child), helper};
}

// ---------------------------------------------------------------------------------------
// Exit statuses

TEST(Child, ReportsHowARealProcessEnded) {
  struct Case {
    std::vector<std::string> argv;
    std::string described;
    bool clean;
  };
  const Case kCases[] = {
      {{"/bin/true"}, "exited with code 0", true},
      {{"/bin/false"}, "exited with code 1", false},
      {{"/bin/sh", "-c", "exit 3"}, "exited with code 3", false},
      {{"/bin/sh", "-c", "exit 255"}, "exited with code 255", false},
      {{"/bin/sh", "-c", "kill -TERM $$"}, "killed by signal 15 (Terminated)", false},
      {{"/bin/sh", "-c", "kill -KILL $$"}, "killed by signal 9 (Killed)", false},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.argv.back());
    int ws = RunToExit(Program(c.argv));
    EXPECT_EQ(DescribeWaitStatus(ws), c.described);
    EXPECT_EQ(ExitedCleanly(ws), c.clean);
  }
}

TEST(DescribeWaitStatus, NamesExitCodesSignalsAndStops) {
  struct Case {
    int wait_status;
    std::string described;
    bool clean;
  };
  const Case kCases[] = {
      {0, "exited with code 0", true},
      {3 << 8, "exited with code 3", false},
      {SIGKILL, "killed by signal 9 (Killed)", false},
      {SIGSEGV | 0x80, "killed by signal 11 (Segmentation fault)", false},  // core dumped
      {(SIGSTOP << 8) | 0x7f, "stopped (status 4991)", false},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.wait_status);
    EXPECT_EQ(DescribeWaitStatus(c.wait_status), c.described);
    EXPECT_EQ(ExitedCleanly(c.wait_status), c.clean);
  }
}

TEST(Child, WaitReturnsTheStatusAndRemembersIt) {
  auto child = Child::Spawn(Sh("exit 4"));
  ASSERT_TRUE(child.ok()) << child.status().message();
  EXPECT_TRUE(child->running());
  auto first = child->Wait();
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(DescribeWaitStatus(*first), "exited with code 4");
  EXPECT_FALSE(child->running());
  ASSERT_TRUE(child->exit_status().has_value());
  EXPECT_EQ(*child->exit_status(), *first);
  auto again = child->Wait();  // already reaped: must not wait for (or steal) another child
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*again, *first);
}

TEST(Child, SignalAfterExitIsANoOp) {
  auto child = Child::Spawn(Program({"/bin/true"}));
  ASSERT_TRUE(child.ok()) << child.status().message();
  ASSERT_TRUE(WaitBounded(*child).has_value());
  // The pid may already belong to someone else: nothing may be sent to it.
  EXPECT_TRUE(child->Signal(SIGKILL).ok());
  EXPECT_TRUE(child->SignalGroup(SIGKILL).ok());
  EXPECT_FALSE(child->running());
}

// ---------------------------------------------------------------------------------------
// Spawn failures

TEST(ChildSpawn, FailsWithAnErrorNamingAMissingProgram) {
  SpawnSpec spec = Program({"/nonexistent/pgrt-ghost", "--flag"});
  spec.name = "ghost";
  // Orphans an earlier test left to this (maybe subreaper) process must not count below.
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  auto child = Child::Spawn(spec);
  ASSERT_FALSE(child.ok());
  const std::string& msg = child.status().message();
  EXPECT_NE(msg.find("spawn ghost"), std::string::npos) << msg;
  EXPECT_NE(msg.find("exec /nonexistent/pgrt-ghost"), std::string::npos) << msg;
  EXPECT_NE(msg.find("No such file or directory"), std::string::npos) << msg;
  // The failed child was reaped by Spawn: no zombie is left for anyone.
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(ChildSpawn, FailsOnAFileThatIsNotExecutable) {
  ScratchDir dir;
  test::WriteText(dir / "script", "#!/bin/sh\nexit 0\n");
  ASSERT_EQ(::chmod((dir / "script").c_str(), 0644), 0);
  auto child = Child::Spawn(Program({dir / "script"}));
  ASSERT_FALSE(child.ok());
  EXPECT_NE(child.status().message().find("exec " + (dir / "script") + ": Permission denied"),
            std::string::npos)
      << child.status().message();
}

TEST(ChildSpawn, FailsWhenTheWorkingDirectoryIsMissing) {
  SpawnSpec spec = Program({"/bin/true"});
  spec.cwd = "/nonexistent/pgrt-dir";
  auto child = Child::Spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_NE(child.status().message().find("chdir"), std::string::npos) << child.status().message();
}

TEST(ChildSpawn, RefusesAnEmptyArgv) {
  SpawnSpec spec;
  spec.name = "nothing";
  auto child = Child::Spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().message(), "spawn nothing: empty argv");
}

// ---------------------------------------------------------------------------------------
// What the child gets

TEST(ChildSpawn, GivesTheChildExactlyTheSpecsEnvironment) {
  // Something secret in pgrt's own environment must not reach the child.
  ASSERT_EQ(::setenv("PGRT_UNIT_SECRET", "leaked", 1), 0);
  struct Case {
    std::map<std::string, std::string> env;
    std::vector<std::string> expected;  // sorted
  };
  const Case kCases[] = {
      {{}, {}},
      {{{"LANG", "C"}, {"PGRT_X", "a b=c"}}, {"LANG=C", "PGRT_X=a b=c"}},
      {{{"PGPASSFILE", "/run/pgpass"}}, {"PGPASSFILE=/run/pgpass"}},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.expected.size());
    ScratchDir dir;
    // env(1) itself, not `sh -c env`: a shell adds PWD on its own.
    SpawnSpec spec = Program({"/usr/bin/env"});
    spec.env = c.env;
    UniqueFd out = CreateFile(dir / "env");
    spec.stdout_fd = out.get();
    EXPECT_TRUE(ExitedCleanly(RunToExit(spec)));
    std::vector<std::string> lines = SplitLines(ReadText(dir / "env"));
    std::sort(lines.begin(), lines.end());
    EXPECT_EQ(lines, c.expected);
  }
  ::unsetenv("PGRT_UNIT_SECRET");
}

TEST(ChildSpawn, RedirectsStdoutAndStderrToTheGivenFds) {
  ScratchDir dir;
  UniqueFd out = CreateFile(dir / "out");
  UniqueFd err = CreateFile(dir / "err");
  SpawnSpec spec = Sh("echo to-out; echo to-err >&2");
  spec.stdout_fd = out.get();
  spec.stderr_fd = err.get();
  EXPECT_TRUE(ExitedCleanly(RunToExit(spec)));
  EXPECT_EQ(ReadText(dir / "out"), "to-out\n");
  EXPECT_EQ(ReadText(dir / "err"), "to-err\n");
}

TEST(ChildSpawn, ReadsStdinFromDevNullUnlessGivenAnFd) {
  const std::string kScript = "if read line; then echo \"read:$line\"; else echo eof; fi";
  ScratchDir dir;
  {
    UniqueFd out = CreateFile(dir / "default");
    SpawnSpec spec = Sh(kScript);
    spec.stdout_fd = out.get();
    EXPECT_TRUE(ExitedCleanly(RunToExit(spec)));
    EXPECT_EQ(ReadText(dir / "default"), "eof\n");
  }
  {
    Pipe in;
    ASSERT_EQ(::write(in.write.get(), "hello\n", 6), 6);
    in.write.reset();
    UniqueFd out = CreateFile(dir / "given");
    SpawnSpec spec = Sh(kScript);
    spec.stdin_fd = in.read.get();
    spec.stdout_fd = out.get();
    EXPECT_TRUE(ExitedCleanly(RunToExit(spec)));
    EXPECT_EQ(ReadText(dir / "given"), "read:hello\n");
  }
}

TEST(ChildSpawn, RunsInTheRootDirectoryUnlessACwdIsGiven) {
  ScratchDir dir;
  struct Case {
    std::string cwd;
    std::string expected;
  };
  const Case kCases[] = {
      {"", "/"},
      {dir.path(), std::filesystem::canonical(dir.path()).string()},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.cwd);
    UniqueFd out = CreateFile(dir / "pwd");
    SpawnSpec spec = Sh("pwd -P");
    spec.cwd = c.cwd;
    spec.stdout_fd = out.get();
    EXPECT_TRUE(ExitedCleanly(RunToExit(spec)));
    EXPECT_EQ(ReadText(dir / "pwd"), c.expected + "\n");
  }
}

TEST(Child, IsTheLeaderOfItsOwnProcessGroup) {
  auto child = Child::Spawn(Program({"/bin/sleep", "30"}));
  ASSERT_TRUE(child.ok()) << child.status().message();
  EXPECT_EQ(::getpgid(child->pid()), child->pid());
  EXPECT_NE(::getpgid(child->pid()), ::getpgrp());
}

// Restores the calling thread's signal mask and the dispositions it changed.
class SignalStateGuard {
 public:
  SignalStateGuard() { ::pthread_sigmask(SIG_SETMASK, nullptr, &mask_); }
  ~SignalStateGuard() {
    for (auto& [sig, act] : saved_) ::sigaction(sig, &act, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &mask_, nullptr);
  }
  void Block(int sig) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }
  void Ignore(int sig) {
    struct sigaction old {};
    ::sigaction(sig, nullptr, &old);
    saved_.emplace_back(sig, old);
    ::signal(sig, SIG_IGN);
  }

 private:
  sigset_t mask_;
  std::vector<std::pair<int, struct sigaction>> saved_;
};

TEST(Child, DiesOfSignalsTheParentBlockedOrIgnored) {
  // Both survive exec: a child that kept them would shrug off pgrt's stop signal.
  enum How { kBlocked, kIgnored };
  struct Case {
    int sig;
    How how;
    std::string described;
  };
  const Case kCases[] = {
      {SIGTERM, kBlocked, "killed by signal 15 (Terminated)"},
      {SIGTERM, kIgnored, "killed by signal 15 (Terminated)"},
      {SIGINT, kIgnored, "killed by signal 2 (Interrupt)"},
      {SIGHUP, kBlocked, "killed by signal 1 (Hangup)"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.described + (c.how == kBlocked ? " (blocked)" : " (ignored)"));
    std::optional<Result<Child>> child;
    {
      SignalStateGuard guard;
      if (c.how == kBlocked)
        guard.Block(c.sig);
      else
        guard.Ignore(c.sig);
      child.emplace(Child::Spawn(Program({"/bin/sleep", "30"})));
    }
    ASSERT_TRUE(child->ok()) << child->status().message();
    Child& running = **child;
    ASSERT_TRUE(running.Signal(c.sig).ok());
    auto ws = WaitBounded(running);
    ASSERT_TRUE(ws.has_value());
    EXPECT_EQ(DescribeWaitStatus(*ws), c.described);
  }
}

TEST(Child, SignalGroupReachesProcessesTheChildStarted) {
  auto [child, helper] = SpawnWithHelper();
  ASSERT_TRUE(child.has_value());
  ASSERT_GT(helper, 0);
  EXPECT_EQ(::getpgid(helper), child->pid());
  ASSERT_TRUE(child->SignalGroup(SIGTERM).ok());
  auto ws = WaitBounded(*child);
  ASSERT_TRUE(ws.has_value());
  EXPECT_EQ(DescribeWaitStatus(*ws), "killed by signal 15 (Terminated)");
  EXPECT_TRUE(GoneWithin(helper)) << "helper " << helper << " survived its group's SIGTERM";
}

// ---------------------------------------------------------------------------------------
// Ownership

TEST(Child, DestructorKillsAndReapsARunningChild) {
  pid_t pid = -1;
  {
    auto child = Child::Spawn(Program({"/bin/sleep", "30"}));
    ASSERT_TRUE(child.ok()) << child.status().message();
    pid = child->pid();
    ASSERT_EQ(::kill(pid, 0), 0);
  }
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1) << "child " << pid << " was not reaped";
  EXPECT_EQ(errno, ECHILD);
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(pid)));
}

TEST(Child, DestructorAlsoKillsProcessesTheChildStarted) {
  pid_t helper = -1;
  {
    auto [child, h] = SpawnWithHelper();
    ASSERT_TRUE(child.has_value());
    helper = h;
  }
  ASSERT_GT(helper, 0);
  EXPECT_TRUE(GoneWithin(helper)) << "helper " << helper << " outlived its Child";
}

TEST(Child, MoveTransfersOwnershipOfTheProcess) {
  auto spawned = Child::Spawn(Program({"/bin/sleep", "30"}));
  ASSERT_TRUE(spawned.ok()) << spawned.status().message();
  Child first = std::move(*spawned);
  const pid_t pid = first.pid();

  Child second = std::move(first);
  EXPECT_FALSE(first.running());  // NOLINT(bugprone-use-after-move): checking the moved-from
  EXPECT_EQ(second.pid(), pid);
  EXPECT_TRUE(second.running());
  EXPECT_EQ(::kill(pid, 0), 0) << "the move killed the process";

  // Assigning over an owner kills and reaps what it owned.
  auto other = Child::Spawn(Program({"/bin/sleep", "30"}));
  ASSERT_TRUE(other.ok()) << other.status().message();
  second = std::move(*other);
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_TRUE(second.running());
}

// ---------------------------------------------------------------------------------------
// Privileges

TEST(ChildSpawn, RunAsDropsToTheGivenAccount) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch accounts";
  auto postgres = LookupUser("postgres");
  if (!postgres.ok()) GTEST_SKIP() << postgres.status().message();
  struct Case {
    std::string flag;
    std::string expected;
  };
  const Case kCases[] = {
      {"-u", std::to_string(postgres->uid)},
      {"-g", std::to_string(postgres->gid)},
  };
  ScratchDir dir;
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.flag);
    SpawnSpec spec = Program({"/usr/bin/id", c.flag});
    spec.run_as = *postgres;
    UniqueFd out = CreateFile(dir / "id");
    spec.stdout_fd = out.get();
    EXPECT_TRUE(ExitedCleanly(RunToExit(spec)));
    EXPECT_EQ(ReadText(dir / "id"), c.expected + "\n");
  }
  // root's supplementary groups are replaced by the account's own.
  bool postgres_in_root_group =
      std::find(postgres->groups.begin(), postgres->groups.end(), 0) != postgres->groups.end();
  if (!postgres_in_root_group) {
    SpawnSpec spec = Program({"/usr/bin/id", "-G"});
    spec.run_as = *postgres;
    UniqueFd out = CreateFile(dir / "groups");
    spec.stdout_fd = out.get();
    EXPECT_TRUE(ExitedCleanly(RunToExit(spec)));
    std::string groups = " " + ReadText(dir / "groups");
    EXPECT_EQ(groups.find(" 0 "), std::string::npos) << groups;
    EXPECT_EQ(groups.find(" 0\n"), std::string::npos) << groups;
  }
}

}  // namespace
}  // namespace pgrt
