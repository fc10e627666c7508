// Role changes while pgrt runs, through the node's controller: a replica re-pointed at a
// second primary without a restart, and a diverged old primary rewound (pg_rewind) to follow
// the new one, holding exactly the new primary's data afterwards. A SIGTERM during a slow
// pg_rewind or re-clone (through a TcpRelay) stops it at once and leaves data the next
// start recognises.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "integration/replication_helpers.h"
#include "integration/tcp_relay.h"

namespace pgrt::testing::repl {
namespace {

std::string FollowBody(const PgrtNode& primary, const std::string& slot) {
  return json{{"host", "127.0.0.1"}, {"port", primary.pg_port()}, {"slot", slot}}.dump();
}

JsonResponse Follow(const PgrtNode& node, const PgrtNode& primary, const std::string& slot = "") {
  return Call(node, "POST", "/__opr/replication/follow", kApiToken, FollowBody(primary, slot));
}

json RoleFile(const PgrtNode& node) {
  return json::parse(ReadFileOrEmpty(node.pgdata() + "/pgrt.role"), nullptr, false);
}

std::string Moves(const PgrtNode& node) {
  return GetJson(node.api_port(), "/__opr/status").value_or(json())["transitions"].dump();
}

// An old primary (`old_extra` merged into its environment) and a new one whose data forked
// from it: the replica of a pair promoted, then a write on each side. Use with
// ASSERT_NO_FATAL_FAILURE.
void DivergedPair(std::unique_ptr<PgrtNode>& old_primary, std::unique_ptr<PgrtNode>& new_primary,
                  const Env& old_extra = {}) {
  ASSERT_NO_FATAL_FAILURE(StartPair(old_primary, new_primary, "replica_slot", old_extra));
  old_primary->Query("INSERT INTO t VALUES ('common')");
  ASSERT_TRUE(WaitForValue(*new_primary, "SELECT count(*) FROM t", "1")) << new_primary->Log();
  ASSERT_EQ(Call(*new_primary, "POST", "/__opr/replication/promote").status, 200);
  std::string error;
  ASSERT_EQ(new_primary->Query("INSERT INTO t VALUES ('new-side') RETURNING v", &error), "new-side")
      << error;
  ASSERT_EQ(old_primary->Query("INSERT INTO t VALUES ('old-side') RETURNING v", &error), "old-side")
      << error;
}

}  // namespace

TEST(RoleChange, AReplicaFollowsASecondPrimaryWithoutRestarting) {
  std::unique_ptr<PgrtNode> primary, first;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, first, "first_slot"));
  auto second = NewReplica(*primary, "second_slot");
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*second));
  primary->Query("INSERT INTO t VALUES ('before')");
  ASSERT_TRUE(WaitForValue(*second, "SELECT count(*) FROM t", "1")) << second->Log();
  ASSERT_TRUE(WaitForValue(*first, "SELECT count(*) FROM t", "1")) << first->Log();

  // The first replica becomes the new primary; the second keeps the slot it will use there.
  ASSERT_EQ(Call(*first, "POST", "/__opr/replication/promote").status, 200) << first->Log();
  ASSERT_EQ(Call(*first, "POST", "/__opr/replication/slot/second_slot").status, 200);
  const pid_t pgrt_pid = second->pid();
  const pid_t postmaster = second->PostmasterPid();

  JsonResponse r = Follow(*second, *first, "second_slot");
  ASSERT_EQ(r.status, 200) << r.body.dump() << second->Log();
  EXPECT_EQ(r.body["success"], true);
  ASSERT_TRUE(WaitStreaming(*first, *second)) << second->Log();
  EXPECT_EQ(second->pid(), pgrt_pid);
  EXPECT_EQ(second->PostmasterPid(), postmaster) << "re-pointed without a restart";

  first->Query("INSERT INTO t VALUES ('after')");
  EXPECT_TRUE(WaitForValue(*second, "SELECT string_agg(v, ',' ORDER BY v) FROM t", "after,before"))
      << second->Log();
  json view = Replication(*second);
  EXPECT_EQ(view["primaryPort"], first->pg_port()) << view.dump();
  EXPECT_EQ(view["walReceiver"]["senderPort"], first->pg_port()) << view.dump();
  EXPECT_NE(Moves(*second).find("\"to\":\"repointing\""), std::string::npos) << Moves(*second);
  json role = RoleFile(*second);
  EXPECT_EQ(role["topology"]["upstream"]["port"], first->pg_port()) << role.dump();
  EXPECT_EQ(second->Get("/replica").status, 200);
  EXPECT_EQ(second->Get("/primary").status, 503);

  // Following the same primary again changes nothing.
  JsonResponse again = Follow(*second, *first, "second_slot");
  EXPECT_EQ(again.status, 200) << again.body.dump();
  EXPECT_EQ(second->PostmasterPid(), postmaster);

  // The topology outlives a restart of pgrt.
  ASSERT_EQ(ExitCode(second->Stop()), 0) << second->Log();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*second));
  first->Query("INSERT INTO t VALUES ('restarted')");
  EXPECT_TRUE(WaitForValue(*second, "SELECT count(*) FROM t", "3")) << second->Log();
}

TEST(RoleChange, ADivergedOldPrimaryIsRewoundAndHoldsExactlyTheNewPrimarysData) {
  std::unique_ptr<PgrtNode> old_primary, new_primary;
  ASSERT_NO_FATAL_FAILURE(DivergedPair(old_primary, new_primary));
  ASSERT_EQ(old_primary->Query("CREATE TABLE only_old AS SELECT generate_series(1, 5000) AS n; "
                               "SELECT 'ok'"),
            "ok");
  ASSERT_EQ(old_primary->Get("/primary").status, 200);

  const pid_t pgrt_pid = old_primary->pid();
  JsonResponse r = Follow(*old_primary, *new_primary);
  ASSERT_EQ(r.status, 200) << r.body.dump() << old_primary->Log();
  EXPECT_EQ(old_primary->pid(), pgrt_pid) << "pgrt itself kept running";
  EXPECT_EQ(old_primary->Query("SELECT pg_is_in_recovery()"), "t");
  EXPECT_EQ(old_primary->Query("SELECT string_agg(v, ',' ORDER BY v) FROM t"), "common,new-side");
  EXPECT_EQ(old_primary->Query("SELECT to_regclass('only_old') IS NULL"), "t");
  ASSERT_TRUE(WaitStreaming(*new_primary, *old_primary)) << old_primary->Log();
  new_primary->Query("INSERT INTO t VALUES ('streamed')");
  EXPECT_TRUE(WaitForValue(*old_primary, "SELECT count(*) FROM t", "3")) << old_primary->Log();

  std::string moves = Moves(*old_primary);
  for (const char* to : {"demoting", "rewinding", "starting", "running"})
    EXPECT_NE(moves.find(std::string("\"to\":\"") + to + "\""), std::string::npos)
        << to << " in " << moves;
  EXPECT_TRUE(WaitForStatus(*old_primary, "/replica", 200));
  EXPECT_EQ(old_primary->Get("/primary").status, 503);
  json role = RoleFile(*old_primary);
  EXPECT_EQ(role["topology"]["role"], "replica") << role.dump();
  EXPECT_FALSE(role.contains("rewinding")) << role.dump();
  // Nothing secret on pgrt's or pg_rewind's side of the log.
  EXPECT_EQ(old_primary->Log().find(old_primary->env().at("POSTGRES_PASSWORD")), std::string::npos);
}

TEST(RoleChange, FollowRequestsAreCheckedBeforeAnythingChanges) {
  auto standalone = std::make_unique<PgrtNode>(Env{{"PGRT_API_TOKEN", kApiToken}});
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*standalone));
  const std::string path = "/__opr/replication/follow";
  EXPECT_EQ(Call(*standalone, "POST", path, "", FollowBody(*standalone, "")).status, 401);
  for (const char* body :
       {"", "[]", "{\"port\": 5432}", "{\"host\": \"a b\"}", "{\"host\": \"db\", \"port\": 0}",
        "{\"host\": \"db\", \"slot\": \"A-B\"}", "{\"host\": \"db\", \"port\": \"5432\"}"}) {
    JsonResponse r = Call(*standalone, "POST", path, kApiToken, body);
    EXPECT_EQ(r.status, 400) << body << " → " << r.body.dump();
    EXPECT_TRUE(r.body.contains("error")) << r.body.dump();
  }
  // A standalone node has no replication credentials to follow anyone with.
  JsonResponse r = Call(*standalone, "POST", path, kApiToken, "{\"host\": \"127.0.0.1\"}");
  EXPECT_EQ(r.status, 400) << r.body.dump();
  EXPECT_EQ(standalone->Query("SELECT pg_is_in_recovery()"), "f");
  EXPECT_FALSE(std::filesystem::exists(standalone->pgdata() + "/standby.signal"));
}

}  // namespace pgrt::testing::repl

namespace pgrt::testing::repl {

TEST(RoleChange, AFollowRequestNamingNoUsablePrimaryChangesNothing) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica));
  auto other = NewPrimary();  // another cluster
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*other));
  const pid_t postmaster = primary->PostmasterPid();

  const std::string nobody = json{{"host", "127.0.0.1"}, {"port", FreePort()}}.dump();
  JsonResponse r = Call(*primary, "POST", "/__opr/replication/follow", kApiToken, nobody);
  EXPECT_EQ(r.status, 503) << r.body.dump();
  r = Follow(*primary, *other);
  EXPECT_EQ(r.status, 400) << r.body.dump();
  EXPECT_NE(Str(r.body, "error").find("another cluster"), std::string::npos) << r.body.dump();
  r = Follow(*primary, *replica);
  EXPECT_EQ(r.status, 400) << r.body.dump();
  EXPECT_NE(Str(r.body, "error").find("is a replica"), std::string::npos) << r.body.dump();

  EXPECT_EQ(primary->PostmasterPid(), postmaster);
  EXPECT_EQ(primary->Get("/primary").status, 200);
  std::string error;
  EXPECT_EQ(primary->Query("INSERT INTO t VALUES ('still-writable') RETURNING v", &error),
            "still-writable")
      << error;
  EXPECT_EQ(Moves(*primary).find("demoting"), std::string::npos) << Moves(*primary);
}

TEST(RoleChange, DataOfAnInterruptedRewindIsRefusedAtStartAndClonedAgainWhenAllowed) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica));
  ASSERT_EQ(ExitCode(replica->Stop()), 0) << replica->Log();
  // What a pgrt killed during pg_rewind leaves: the role file says so.
  json role = RoleFile(*replica);
  ASSERT_FALSE(role.is_discarded());
  role["rewinding"] = true;
  WriteFileOrDie(replica->pgdata() + "/pgrt.role", role.dump(2), 0600);

  size_t mark = replica->LogSize();
  replica->Start();
  EXPECT_EQ(ExitCode(replica->WaitExit(milliseconds(30000))), 1) << replica->LogSince(mark);
  EXPECT_NE(replica->LogSince(mark).find("interrupted pg_rewind"), std::string::npos)
      << replica->LogSince(mark);

  replica->env()["PGRT_REPLICA_RECLONE"] = "true";
  mark = replica->LogSize();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->LogSince(mark);
  EXPECT_FALSE(RoleFile(*replica).contains("rewinding")) << RoleFile(*replica).dump();
  const std::string parent = std::filesystem::path(replica->pgdata()).parent_path().string();
  const std::string name = std::filesystem::path(replica->pgdata()).filename().string();
  EXPECT_EQ(EntriesStartingWith(parent, name + ".broken-").size(), 1u);
}

namespace {

// The pids of `root`'s descendants whose command is `comm` (found by parentage, never by
// name alone).
std::vector<pid_t> DescendantsCalled(pid_t root, const std::string& comm) {
  std::vector<pid_t> out;
  for (pid_t p : DescendantsOf(root))
    if (ReadProcFile(p, "comm").rfind(comm, 0) == 0) out.push_back(p);
  return out;
}

// Until a command called `comm` runs under `node`'s pgrt and `ready` holds; its pids.
std::vector<pid_t> WaitForCommand(const PgrtNode& node, const std::string& comm,
                                  const std::function<bool()>& ready) {
  std::vector<pid_t> pids;
  WaitUntil(
      [&] {
        pids = DescendantsCalled(node.pid(), comm);
        return !pids.empty() && ready();
      },
      milliseconds(60000), milliseconds(20));
  return pids;
}

// A follow request (no slot: the new primary has none for this node), answered once the
// node runs as a replica, or never (pgrt stops first): sent from a thread of its own, joined
// however the test ends (bounded by the client's read timeout).
class FollowInBackground {
 public:
  FollowInBackground(const PgrtNode& node, int port)
      : body_(json{{"host", "127.0.0.1"}, {"port", port}, {"slot", ""}}.dump()),
        thread_(
            [&node, this] { Call(node, "POST", "/__opr/replication/follow", kApiToken, body_); }) {}
  ~FollowInBackground() { thread_.join(); }
  FollowInBackground(const FollowInBackground&) = delete;
  FollowInBackground& operator=(const FollowInBackground&) = delete;

 private:
  std::string body_;
  std::thread thread_;
};

// SIGTERM to pgrt while `pids` (its command) run: pgrt exits 0 and the command ends on the
// SIGTERM its process group gets, well within the 5 s before a SIGKILL.
void ExpectPromptStop(PgrtNode& node, const std::vector<pid_t>& pids) {
  ASSERT_FALSE(pids.empty()) << node.Log();
  ASSERT_FALSE(NoneAlive(pids)) << "it ended before the signal\n" << node.Log();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(ExitCode(node.Stop(SIGTERM, milliseconds(15000))), 0) << node.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(4000)) << node.Log();
  EXPECT_TRUE(WaitUntil([&] { return NoneAlive(pids); }, milliseconds(2000)));
}

// Bytes a second through the relay to the new primary: its WAL since the fork (whole 16 MB
// segments), or a clone of a fresh cluster, takes tens of seconds.
constexpr int64_t kSlowCopy = 512 << 10;

}  // namespace

TEST(RoleChange, ASigtermDuringASlowRewindEndsPgRewindPromptlyAndTheDataStaysMarkedRewinding) {
  std::unique_ptr<PgrtNode> old_primary, new_primary;
  ASSERT_NO_FATAL_FAILURE(DivergedPair(old_primary, new_primary));
  TcpRelay relay(new_primary->pg_port(), kSlowCopy, TcpRelay::Mode::kForward);
  PgrtNode& node = *old_primary;
  FollowInBackground follow(node, relay.port());

  const std::vector<pid_t> rewinds = WaitForCommand(node, "pg_rewind", [] { return true; });
  EXPECT_EQ(RoleFile(node).value("rewinding", false), true) << RoleFile(node).dump();
  std::this_thread::sleep_for(milliseconds(500));  // it copies meanwhile
  ASSERT_NO_FATAL_FAILURE(ExpectPromptStop(node, rewinds));
  const std::string log = node.Log();
  EXPECT_NE(log.find("pg_rewind: making"), std::string::npos) << log;
  EXPECT_EQ(log.find("pg_rewind failed"), std::string::npos) << "stopped, not failed:\n" << log;
  // The data may be half rewound: the role file says so, and the next start refuses it.
  EXPECT_EQ(RoleFile(node).value("rewinding", false), true) << RoleFile(node).dump();
  const size_t mark = node.LogSize();
  node.Start();
  EXPECT_EQ(ExitCode(node.WaitExit(milliseconds(30000))), 1) << node.LogSince(mark);
  EXPECT_NE(node.LogSince(mark).find("interrupted pg_rewind"), std::string::npos)
      << node.LogSince(mark);
}

TEST(RoleChange, ASigtermDuringASlowRecloneEndsPgBasebackupPromptlyAndPgdataHoldsNoClone) {
  std::unique_ptr<PgrtNode> old_primary, new_primary;
  ASSERT_NO_FATAL_FAILURE(
      DivergedPair(old_primary, new_primary, Env{{"PGRT_REPLICA_RECLONE", "true"}}));
  PgrtNode& node = *old_primary;
  // pg_rewind reads back from the fork to the last checkpoint both share: with the old
  // primary's WAL before its own last checkpoint gone (postgres no longer needs it), every
  // try fails, and the node clones the new primary again (through the slow relay).
  const std::string keep_from =
      WriteAndCheckpointInNewSegment(node, "INSERT INTO t VALUES ('old-side-2')");
  ASSERT_EQ(keep_from.size(), 24u) << node.Log();
  const int removed = RemoveWalBefore(node.pgdata(), keep_from);
  ASSERT_GT(removed, 0) << "no segment before " << keep_from;
  TcpRelay relay(new_primary->pg_port(), kSlowCopy, TcpRelay::Mode::kForward);
  FollowInBackground follow(node, relay.port());

  // Mid-clone: pg_basebackup has written part of the cluster into the scratch directory.
  const std::string scratch = node.pgdata() + "/.pgrt-init";
  const std::vector<pid_t> basebackups = WaitForCommand(
      node, "pg_basebackup", [&] { return std::filesystem::exists(scratch + "/base"); });
  std::string log = node.Log();
  EXPECT_NE(log.find("try 4 of 4: giving up"), std::string::npos) << log;
  EXPECT_NE(log.find("rewinding → recloning"), std::string::npos) << log;
  ASSERT_NO_FATAL_FAILURE(ExpectPromptStop(node, basebackups));

  log = node.Log();
  EXPECT_EQ(log.find("the new clone of"), std::string::npos) << "stopped, not failed:\n" << log;
  // PGDATA holds the unfinished scratch only, never marked complete; the old data is kept
  // beside it as it was.
  EXPECT_FALSE(std::filesystem::exists(node.pgdata() + "/PG_VERSION"));
  EXPECT_EQ(EntriesStartingWith(node.pgdata(), ""), std::vector<std::string>{scratch});
  EXPECT_FALSE(std::filesystem::exists(scratch + "/pgrt-init.complete"));
  const std::string parent = std::filesystem::path(node.pgdata()).parent_path().string();
  const std::string name = std::filesystem::path(node.pgdata()).filename().string();
  const std::vector<std::string> aside = EntriesStartingWith(parent, name + ".broken-");
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(aside[0] + "/PG_VERSION"));
}

}  // namespace pgrt::testing::repl
