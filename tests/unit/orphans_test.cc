// Leftovers of a dead postmaster: what postmaster.pid, /proc/PID/maps and /proc/sysvipc/shm
// say (table-driven), and EndLeftovers against real processes attached to a real System V
// segment — only those of "our" segment and process group end, nothing else is touched.
#include "pgdata/orphans.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "process/event_loop.h"
#include "process_test_util.h"
#include "scratch_dir.h"
#include "util/clock.h"
#include "util/fs.h"

namespace pgrt {
namespace {

using test::ScratchDir;

TEST(ParseLockFile, ReadsThePidTheDataDirectoryAndTheSharedMemoryKeyAndId) {
  struct Case {
    const char* name;
    std::string text;
    pid_t pid;
    std::optional<long> key;
    std::optional<long> id;
  };
  const Case kCases[] = {
      {"a running postmaster",
       "4242\n/data\n1700000000\n5432\n/run/pg\n*\n  5432001     98304\nready   \n", 4242, 5432001,
       98304},
      {"before the segment existed", "4242\n/data\n1700000000\n5432\n", 4242, {}, {}},
      {"a standalone backend writes its pid negated", "-77\n/data\n", 77, {}, {}},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    auto f = ParseLockFile(c.text);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->postmaster, c.pid);
    EXPECT_EQ(f->datadir, "/data");
    EXPECT_EQ(f->shm_key, c.key);
    EXPECT_EQ(f->shm_id, c.id);
  }
  EXPECT_FALSE(ParseLockFile("").has_value());
  EXPECT_FALSE(ParseLockFile("not a pid\n").has_value());
  EXPECT_FALSE(ParseLockFile("0\n").has_value());
}

TEST(MapsAttachSegment, MatchesTheKeyInHexAndTheIdInTheInodeColumn) {
  const std::string maps =
      "55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1234   /usr/lib/postgresql/15/bin/postgres\n"
      "7f1c2a000000-7f1c2a001000 rw-s 00000000 00:01 98304  /SYSV0052e2c1 (deleted)\n"
      "7f1c2b000000-7f1c3b000000 rw-s 00000000 00:01 5678   /dev/zero (deleted)\n";
  EXPECT_TRUE(MapsAttachSegment(maps, 0x52e2c1, 98304));
  EXPECT_FALSE(MapsAttachSegment(maps, 0x52e2c1, 98305)) << "same key, another segment";
  EXPECT_FALSE(MapsAttachSegment(maps, 0x52e2c2, 98304)) << "another key";
  EXPECT_FALSE(MapsAttachSegment("", 0x52e2c1, 98304));
}

TEST(SegmentAttachCount, FindsTheSegmentByIdAndChecksItsKey) {
  const std::string table =
      "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  "
      "cgid      atime      dtime      ctime                   rss                  swap\n"
      "   5432001      98304   600                    56  4242  4250      3   105   109   105   "
      "109 1700000000 1700000000 1700000000                  4096                     0\n"
      "   5433001      98305   600                    56  5000  5000      0   105   109   105   "
      "109 1700000000 1700000000 1700000000                  4096                     0\n";
  EXPECT_EQ(SegmentAttachCount(table, 5432001, 98304), 3);
  EXPECT_EQ(SegmentAttachCount(table, 5433001, 98305), 0);
  EXPECT_EQ(SegmentAttachCount(table, 5432001, 98305), std::nullopt) << "id reused by another key";
  EXPECT_EQ(SegmentAttachCount(table, 5432001, 11111), std::nullopt) << "segment gone";
}

// ---------------------------------------------------------------------------------------
// Against real processes

// A forked process that (optionally) attaches segment `shmid`, works in `cwd`, ignores
// SIGTERM when asked, and waits to be killed. Reaped (and killed if needed) on destruction.
class Helper {
 public:
  Helper(int shmid, const std::string& cwd, bool ignore_term) {
    pid_ = ::fork();
    if (pid_ == 0) {
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the test process blocks some signals
      ::signal(SIGTERM, ignore_term ? SIG_IGN : SIG_DFL);
      if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(2);
      if (shmid >= 0 && ::shmat(shmid, nullptr, 0) == reinterpret_cast<void*>(-1)) ::_exit(3);
      for (;;) ::pause();
    }
  }
  ~Helper() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// A pid that was used a moment ago and is dead now (a dead postmaster's).
pid_t DeadPid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

// Alive and not a zombie (the helpers are reaped only at the end of a test).
bool Running(pid_t pid) {
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat.ok()) return false;
  size_t close = stat->rfind(')');
  return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z';
}

class EndLeftoversTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_level_ = spdlog::get_level();
    spdlog::set_level(spdlog::level::off);
    ASSERT_TRUE(loop_.Init().ok());
    // A key no cluster uses (postgres derives its keys from the port: port * 1000 + n).
    key_ = 0x70000000 + (::getpid() & 0xffff);
    shmid_ = ::shmget(key_, 4096, IPC_CREAT | IPC_EXCL | 0600);
    ASSERT_GE(shmid_, 0) << "shmget";
  }
  void TearDown() override {
    ::shmctl(shmid_, IPC_RMID, nullptr);
    spdlog::set_level(log_level_);
  }

  void WriteLockFile(pid_t postmaster) {
    std::ofstream out(data_ / "postmaster.pid");
    out << postmaster << "\n"
        << data_.path() << "\n1700000000\n5432\n/run\n*\n"
        << key_ << " " << shmid_ << "\nready   \n";
  }

  // Until a helper has attached the segment (bounded).
  bool WaitAttached() {
    for (int i = 0; i < 1000; ++i) {
      struct shmid_ds ds {};
      if (::shmctl(shmid_, IPC_STAT, &ds) == 0 && ds.shm_nattch > 0) return true;
      ::usleep(2000);
    }
    return false;
  }
  // Until `pid` works in `dir` (bounded).
  static bool WaitCwd(pid_t pid, const std::string& dir) {
    std::error_code ec;
    auto want = std::filesystem::canonical(dir, ec);
    for (int i = 0; i < 1000; ++i) {
      auto cwd = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
      if (!ec && cwd == want) return true;
      ::usleep(2000);
    }
    return false;
  }

  // Runs EndLeftovers to its end; its Status.
  Status Run(Millis grace = Millis(1000)) {
    LeftoverCleanup how;
    how.datadir = data_.path();
    how.owner = ::geteuid();
    how.grace = grace;
    how.kill_timeout = Millis(3000);
    std::optional<Status> result;
    EndLeftovers(loop_, how, [&](Status st) {
      result = std::move(st);
      loop_.Quit();
    });
    if (!result) {
      EXPECT_TRUE(process_test::RunLoopAtMost(loop_, Millis(8000)));
    }
    return result.value_or(Status::Error("never done"));
  }

  ScratchDir data_;
  RealClock clock_;
  EventLoop loop_{clock_};
  long key_ = 0;
  int shmid_ = -1;
  spdlog::level::level_enum log_level_{};
};

TEST_F(EndLeftoversTest, EndsProcessesAttachedToTheSegmentAndTouchesNoOther) {
  Helper attached(shmid_, "", false);
  Helper bystander(-1, data_.path(), false);  // same account, same directory, not attached
  ASSERT_TRUE(WaitAttached());
  ASSERT_TRUE(WaitCwd(bystander.pid(), data_.path()));
  WriteLockFile(DeadPid());

  Status st = Run();
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(Running(attached.pid())) << "the attached process survived";
  EXPECT_TRUE(Running(bystander.pid())) << "a process of no segment and no group was ended";
}

TEST_F(EndLeftoversTest, KillsALeftoverThatIgnoresSigtermAfterTheGrace) {
  Helper stubborn(shmid_, "", true);
  ASSERT_TRUE(WaitAttached());
  WriteLockFile(DeadPid());
  const SteadyTime t0 = clock_.Now();
  Status st = Run(Millis(200));
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_GE(clock_.Now() - t0, Millis(200)) << "SIGKILL came before the grace";
  EXPECT_FALSE(Running(stubborn.pid()));
}

TEST_F(EndLeftoversTest, RefusesWhileAPostmasterOfThisDataDirectoryRuns) {
  // A live process of the account working in PGDATA, named by postmaster.pid: another
  // pgrt's postmaster. Neither it nor what is attached to its segment may be touched.
  Helper postmaster(-1, data_.path(), false);
  Helper backend(shmid_, "", false);
  ASSERT_TRUE(WaitAttached());
  ASSERT_TRUE(WaitCwd(postmaster.pid(), data_.path()));
  WriteLockFile(postmaster.pid());
  Status st = Run();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("still runs on " + data_.path()), std::string::npos) << st.message();
  EXPECT_TRUE(Running(postmaster.pid()));
  EXPECT_TRUE(Running(backend.pid()));
}

TEST_F(EndLeftoversTest, NothingToDoWithoutALockFileOrLeftovers) {
  Helper bystander(-1, data_.path(), false);
  ASSERT_TRUE(WaitCwd(bystander.pid(), data_.path()));
  EXPECT_TRUE(Run().ok()) << "no postmaster.pid";
  WriteLockFile(DeadPid());
  EXPECT_TRUE(Run().ok()) << "no process attached";
  EXPECT_TRUE(Running(bystander.pid()));
}

}  // namespace
}  // namespace pgrt
