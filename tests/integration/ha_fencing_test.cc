// Fencing (PGRT_HA=etcd): a leader whose pgrt is frozen (SIGSTOP) while its postgres keeps
// running must stop taking writes before its lease can end, so no two nodes ever accept
// writes; once thawed it rejoins as a replica of the new leader.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iterator>

#include "integration/ha_helpers.h"
#include "process/proc_children.h"

namespace pgrt::testing::ha {
namespace {

// pgrt's `fence-watchdog` child (0: none).
pid_t WatchdogOf(pid_t pgrt) {
  for (pid_t child : ChildrenOf(pgrt)) {
    std::ifstream in("/proc/" + std::to_string(child) + "/cmdline");
    const std::string cmdline((std::istreambuf_iterator<char>(in)), {});
    if (cmdline.find("fence-watchdog") != std::string::npos) return child;
  }
  return 0;
}

}  // namespace

TEST(HaFencing, AFrozenLeaderStopsTakingWritesBeforeAnotherNodeIsPromoted) {
  Cluster c(3);
  c.StartAll();
  const int old = c.WaitSettled();
  ASSERT_GE(old, 0) << c.Logs();
  PgrtNode& frozen = c.node(old);
  ASSERT_EQ(frozen.Query("CREATE TABLE t (v int); SELECT 'ok'"), "ok");
  const pid_t postmaster = frozen.PostmasterPid();

  // A watchdog killed from outside is started again, and told the current deadline: the
  // freeze below is fenced by the new one.
  const pid_t first_dog = WatchdogOf(frozen.pid());
  ASSERT_GT(first_dog, 0) << frozen.Log();
  ASSERT_EQ(::kill(first_dog, SIGKILL), 0);
  pid_t second_dog = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        second_dog = WatchdogOf(frozen.pid());
        return second_dog > 0 && second_dog != first_dog;
      },
      milliseconds(5000)))
      << frozen.Log();
  EXPECT_NE(frozen.Log().find("fence watchdog"), std::string::npos) << frozen.Log();

  Writer writer(frozen);
  ASSERT_TRUE(WaitUntil([&] { return writer.acknowledged() > 50; }, milliseconds(10000)));
  ASSERT_EQ(::kill(frozen.pid(), SIGSTOP), 0);
  // The first write another node acknowledges.
  int fresh = -1;
  Clock::time_point first_new{};
  const bool promoted = WaitUntil(
      [&] {
        for (int i = 0; i < c.size(); ++i) {
          if (i == old) continue;
          if (c.node(i).Query("INSERT INTO t VALUES (-1); SELECT 'ok'") == "ok") {
            first_new = Clock::now();
            fresh = i;
            return true;
          }
        }
        return false;
      },
      milliseconds((kTtl + 15) * 1000), milliseconds(20));
  writer.Stop();
  ::kill(frozen.pid(), SIGCONT);
  ASSERT_TRUE(promoted) << c.Logs();
  EXPECT_LT(writer.last_ack().time_since_epoch().count(), first_new.time_since_epoch().count())
      << "the frozen leader acknowledged a write after another node took one";
  EXPECT_FALSE(ProcessAlive(postmaster)) << "the fence watchdog kills the frozen leader's postgres";
  RecordProperty(
      "gap_ms",
      static_cast<int>(
          std::chrono::duration_cast<milliseconds>(first_new - writer.last_ack()).count()));

  // Thawed, it finds its lease gone and rejoins as a replica of the new leader.
  ASSERT_TRUE(WaitForStatus(frozen, "/replica", 200, milliseconds(60000))) << frozen.Log();
  EXPECT_EQ(frozen.Get("/primary").status, 503);
  EXPECT_EQ(c.Primary(), fresh);
  c.node(fresh).Query("INSERT INTO t VALUES (-2)");
  const std::string expected = c.node(fresh).Query("SELECT count(*) || ':' || sum(v) FROM t");
  EXPECT_TRUE(WaitForValue(frozen, "SELECT count(*) || ':' || sum(v) FROM t", expected,
                           milliseconds(30000)))
      << frozen.Log();
}

}  // namespace pgrt::testing::ha
