// A replica's start-up (waiting for its primary, cloning it) runs while pgrt's loop keeps
// turning: /liveness answers at once, the readiness checks say 503, the status answers, and
// a SIGTERM stops the clone at once without leaving a half-cloned cluster in PGDATA. A
// TcpRelay between replica and primary makes the clone last seconds, or plays a primary
// that accepts connections and never answers.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/replication_helpers.h"
#include "integration/tcp_relay.h"

namespace pgrt::testing::repl {
namespace {

using Steady = std::chrono::steady_clock;

// Answers within this are prompt: a loop that never waits answers in a few milliseconds.
constexpr milliseconds kPrompt(500);
// A cluster fresh from initdb clones ~20-40 MB: at this pace that is several seconds.
constexpr int64_t kSlowClone = 4 << 20;  // bytes per second

struct TimedAnswer {
  HttpResponse response;
  milliseconds took{0};
};

TimedAnswer TimedGet(const PgrtNode& node, const std::string& path) {
  Steady::time_point start = Steady::now();
  HttpResponse r = node.Get(path);
  return {r, std::chrono::duration_cast<milliseconds>(Steady::now() - start)};
}

// Polls /liveness every `every` while `go_on` holds (at most `limit`): every answer must be
// 200 and prompt. Returns how many answers there were.
int ExpectPromptLiveness(const PgrtNode& node, const std::function<bool()>& go_on,
                         milliseconds limit, milliseconds every = milliseconds(200)) {
  int samples = 0;
  milliseconds worst(0);
  Steady::time_point end = Steady::now() + limit;
  while (Steady::now() < end && go_on()) {
    TimedAnswer a = TimedGet(node, "/liveness");
    EXPECT_EQ(a.response.status, 200) << a.response.body;
    worst = std::max(worst, a.took);
    ++samples;
    std::this_thread::sleep_for(every);
  }
  EXPECT_LT(worst.count(), kPrompt.count()) << "slowest /liveness answer of " << samples;
  return samples;
}

// pgrt_loop_lag_seconds from /metrics: the worst lateness of a loop timer since the
// previous scrape; -1 when absent.
double LoopLagSeconds(const PgrtNode& node) {
  std::istringstream in(node.Get("/metrics").body);
  std::string line;
  const std::string name = "pgrt_loop_lag_seconds ";
  while (std::getline(in, line))
    if (line.rfind(name, 0) == 0) return std::stod(line.substr(name.size()));
  return -1;
}

// The pg_basebackup processes under pgrt (it forks one of its own to stream the WAL),
// found by parentage, never by name alone.
std::vector<pid_t> PgBasebackupsOf(pid_t pgrt) {
  std::vector<pid_t> out;
  for (pid_t p : DescendantsOf(pgrt)) {
    std::string comm = ReadProcFile(p, "comm");
    if (comm.rfind("pg_basebackup", 0) == 0) out.push_back(p);
  }
  return out;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    out.push_back(e.path().filename().string());
  return out;
}

// A primary holding table t ('from-primary'); the replica reaches it through `relay`.
std::unique_ptr<PgrtNode> ReplicaThrough(const TcpRelay& relay, PgrtNode& primary) {
  return NewReplica(primary, "replica_slot",
                    {{"POSTGRES_PRIMARY_PORT", std::to_string(relay.port())}});
}

void StartPrimaryWithTable(std::unique_ptr<PgrtNode>& primary) {
  primary = NewPrimary();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  ASSERT_EQ(primary->Query("CREATE TABLE t AS SELECT 'from-primary'::text AS v; SELECT 'ok'"),
            "ok");
}

}  // namespace

TEST(ReplicaStartup, WhileThePrimaryIsDownLivenessAnswersAndReadinessSays503) {
  auto primary = NewPrimary();
  auto replica = NewReplica(*primary, "replica_slot");
  replica->Start();
  ASSERT_TRUE(WaitForStatus(*replica, "/liveness", 200)) << replica->Log();
  LoopLagSeconds(*replica);  // starts the lag window here

  Steady::time_point end = Steady::now() + milliseconds(3000);
  int rounds = 0;
  while (Steady::now() < end) {
    TimedAnswer live = TimedGet(*replica, "/liveness");
    EXPECT_EQ(live.response.status, 200) << live.response.body;
    EXPECT_LT(live.took.count(), kPrompt.count());
    EXPECT_EQ(replica->Get("/readiness").status, 503);
    EXPECT_EQ(replica->Get("/__opr/health").status, 503);
    int status = 0;
    std::optional<json> s = GetJson(replica->api_port(), "/__opr/status", &status);
    EXPECT_EQ(status, 200) << "the OpenRuntimes runtime's code: ready says the rest";
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ((*s)["ready"], false) << s->dump();
    EXPECT_EQ(Str(*s, "phase"), "cloning") << s->dump();
    EXPECT_EQ(Str((*s)["replication"], "mode"), "replica") << s->dump();
    ++rounds;
    std::this_thread::sleep_for(milliseconds(250));
  }
  EXPECT_GE(rounds, 8);
  EXPECT_TRUE(replica->running()) << replica->Log();
  EXPECT_FALSE(std::filesystem::exists(replica->pgdata() + "/PG_VERSION"));
  double lag = LoopLagSeconds(*replica);
  EXPECT_GE(lag, 0) << "no pgrt_loop_lag_seconds in /metrics";
  EXPECT_LT(lag, 0.5);

  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  primary->Query("CREATE TABLE t AS SELECT 'from-primary'::text AS v");
  ASSERT_TRUE(replica->WaitHealthy(milliseconds(30000))) << replica->Log();
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->Log();
  EXPECT_TRUE(WaitForValue(*replica, "SELECT v FROM t", "from-primary")) << replica->Log();
  EXPECT_TRUE(WaitForStatus(*replica, "/readiness", 200));
}

TEST(ReplicaStartup, APrimaryThatAcceptsButNeverAnswersDoesNotHoldTheLoop) {
  std::unique_ptr<PgrtNode> primary;
  ASSERT_NO_FATAL_FAILURE(StartPrimaryWithTable(primary));
  TcpRelay relay(primary->pg_port(), 0, TcpRelay::Mode::kSilent);
  auto replica = ReplicaThrough(relay, *primary);
  replica->Start();
  ASSERT_TRUE(WaitForStatus(*replica, "/liveness", 200)) << replica->Log();
  ASSERT_TRUE(WaitUntil([&] { return relay.accepted() >= 1; }, milliseconds(10000)));
  LoopLagSeconds(*replica);  // starts the lag window here

  // Each try waits for an answer that never comes (connect_timeout): the loop must not.
  int samples = ExpectPromptLiveness(
      *replica, [] { return true; }, milliseconds(5000));
  EXPECT_GE(samples, 10);
  EXPECT_GE(relay.accepted(), 2) << "the replica stopped trying";
  double lag = LoopLagSeconds(*replica);
  EXPECT_GE(lag, 0) << "no pgrt_loop_lag_seconds in /metrics";
  EXPECT_LT(lag, 0.5);
  EXPECT_EQ(replica->Get("/readiness").status, 503);

  // Once the primary answers, the replica clones it and streams.
  relay.SetMode(TcpRelay::Mode::kForward);
  ASSERT_TRUE(replica->WaitHealthy(milliseconds(30000))) << replica->Log();
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->Log();
  EXPECT_EQ(replica->Query("SELECT v FROM t"), "from-primary");
}

TEST(ReplicaStartup, SigtermWhileThePrimaryNeverAnswersStopsPgrtAtOnce) {
  std::unique_ptr<PgrtNode> primary;
  ASSERT_NO_FATAL_FAILURE(StartPrimaryWithTable(primary));
  TcpRelay relay(primary->pg_port(), 0, TcpRelay::Mode::kSilent);
  auto replica = ReplicaThrough(relay, *primary);
  replica->Start();
  // The signal lands just after a try began: that try waits out connect_timeout, pgrt not.
  ASSERT_TRUE(WaitUntil([&] { return relay.accepted() >= 2; }, milliseconds(15000)))
      << replica->Log();
  const int tries = relay.accepted();
  ASSERT_TRUE(WaitUntil([&] { return relay.accepted() > tries; }, milliseconds(10000)))
      << replica->Log();

  Steady::time_point start = Steady::now();
  EXPECT_EQ(ExitCode(replica->Stop(SIGTERM, milliseconds(10000))), 0) << replica->Log();
  EXPECT_LT(Steady::now() - start, milliseconds(1500));
  EXPECT_NE(replica->Log().find("stopped during start-up by signal 15"), std::string::npos)
      << replica->Log();
}

TEST(ReplicaStartup, LivenessAnswersPromptlyWhilePgBasebackupClones) {
  std::unique_ptr<PgrtNode> primary;
  ASSERT_NO_FATAL_FAILURE(StartPrimaryWithTable(primary));
  TcpRelay relay(primary->pg_port(), kSlowClone, TcpRelay::Mode::kForward);
  auto replica = ReplicaThrough(relay, *primary);
  replica->Start();
  ASSERT_TRUE(
      WaitUntil([&] { return !PgBasebackupsOf(replica->pid()).empty(); }, milliseconds(20000)))
      << replica->Log();

  Steady::time_point clone_seen = Steady::now();
  int samples = ExpectPromptLiveness(
      *replica, [&] { return !PgBasebackupsOf(replica->pid()).empty(); }, milliseconds(45000));
  // The clone lasted long enough for the answers to mean something.
  EXPECT_GE(samples, 8);
  EXPECT_GE(Steady::now() - clone_seen, milliseconds(2000));
  EXPECT_GT(relay.bytes_to_clients(), int64_t{8} << 20) << "the clone did not go through the relay";

  ASSERT_TRUE(replica->WaitHealthy(milliseconds(30000))) << replica->Log();
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->Log();
  EXPECT_EQ(replica->Query("SELECT v FROM t"), "from-primary");
  EXPECT_FALSE(std::filesystem::exists(replica->pgdata() + "/.pgrt-init"));
}

TEST(ReplicaStartup, SigtermDuringACloneEndsPgBasebackupLeavesNoClusterAndARestartClonesAgain) {
  std::unique_ptr<PgrtNode> primary;
  ASSERT_NO_FATAL_FAILURE(StartPrimaryWithTable(primary));
  TcpRelay relay(primary->pg_port(), kSlowClone, TcpRelay::Mode::kForward);
  auto replica = ReplicaThrough(relay, *primary);
  replica->Start();
  const std::string scratch = replica->pgdata() + "/.pgrt-init";
  std::vector<pid_t> basebackups;
  // Mid-clone: pg_basebackup runs and has written part of the cluster into the scratch.
  ASSERT_TRUE(WaitUntil(
      [&] {
        basebackups = PgBasebackupsOf(replica->pid());
        return !basebackups.empty() && std::filesystem::exists(scratch + "/base");
      },
      milliseconds(20000)))
      << replica->Log();
  ASSERT_FALSE(std::filesystem::exists(replica->pgdata() + "/PG_VERSION"));

  Steady::time_point start = Steady::now();
  EXPECT_EQ(ExitCode(replica->Stop(SIGTERM, milliseconds(15000))), 0) << replica->Log();
  EXPECT_LT(Steady::now() - start, milliseconds(5000));
  EXPECT_TRUE(WaitUntil([&] { return NoneAlive(basebackups); }, milliseconds(2000)));
  EXPECT_NE(replica->Log().find("stopped during start-up by signal 15"), std::string::npos)
      << replica->Log();
  // Nothing of the clone is in place: at most the unfinished scratch, which is not a cluster.
  EXPECT_FALSE(std::filesystem::exists(replica->pgdata() + "/PG_VERSION"));
  for (const std::string& e : Entries(replica->pgdata())) EXPECT_EQ(e, ".pgrt-init");
  EXPECT_FALSE(std::filesystem::exists(scratch + "/pgrt-init.complete"));

  size_t mark = replica->LogSize();
  replica->Start();
  ASSERT_TRUE(replica->WaitHealthy(milliseconds(45000))) << replica->LogSince(mark);
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->LogSince(mark);
  EXPECT_EQ(replica->Query("SELECT v FROM t"), "from-primary");
  EXPECT_FALSE(std::filesystem::exists(scratch));
  EXPECT_NE(replica->LogSince(mark).find("cloning"), std::string::npos) << replica->LogSince(mark);
}

}  // namespace pgrt::testing::repl
