// The fence watchdog's own loop against real processes: it kills what it was armed for when
// the deadline passes, and stays on duty for the next leadership.
#include "ha/fence_watchdog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "process/child.h"
#include "process_test_util.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

using process_test::GoneWithin;
using process_test::Sh;

void Write(int fd, const std::string& line) {
  ASSERT_EQ(::write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
}

std::string ArmLine(pid_t pid, Millis from_now) {
  const auto deadline = std::chrono::steady_clock::now() + from_now;
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  return "ARM " + std::to_string(pid) + " " + std::to_string(ns) + "\n";
}

TEST(FenceWatchdog, FencesEachLeadershipItIsArmedForAndEndsOnlyWhenPgrtIsGone) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  int code = -1;
  std::thread dog([&] { code = RunFenceWatchdog(read_end.get()); });

  // Two leaderships, one after the other, each with a "postmaster" that keeps running.
  for (int round = 0; round < 2; ++round) {
    auto postmaster = Child::Spawn(Sh("exec sleep 30"));
    ASSERT_TRUE(postmaster.ok()) << postmaster.status().message();
    const pid_t pid = postmaster->pid();
    Write(write_end.get(), ArmLine(pid, Millis(50)));
    EXPECT_TRUE(GoneWithin(pid, Millis(5000))) << "round " << round << ": not fenced";
  }

  // Re-armed in time and then disarmed: nothing is killed.
  auto spared = Child::Spawn(Sh("exec sleep 30"));
  ASSERT_TRUE(spared.ok());
  Write(write_end.get(), ArmLine(spared->pid(), Millis(300)));
  Write(write_end.get(), ArmLine(spared->pid(), Millis(600)));
  Write(write_end.get(), "DISARM\n");
  std::this_thread::sleep_for(Millis(900));
  EXPECT_EQ(::kill(spared->pid(), 0), 0) << "killed while disarmed";

  write_end.reset();  // pgrt is gone
  dog.join();
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace pgrt
