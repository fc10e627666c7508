// Role changes while pgrt runs, through the node's controller: a replica re-pointed at a
// second primary without a restart, and a diverged old primary rewound (pg_rewind) to follow
// the new one, holding exactly the new primary's data afterwards.
#include <gtest/gtest.h>

#include <string>

#include "integration/replication_helpers.h"

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
  ASSERT_NO_FATAL_FAILURE(StartPair(old_primary, new_primary));
  old_primary->Query("INSERT INTO t VALUES ('common')");
  ASSERT_TRUE(WaitForValue(*new_primary, "SELECT count(*) FROM t", "1")) << new_primary->Log();

  ASSERT_EQ(Call(*new_primary, "POST", "/__opr/replication/promote").status, 200);
  // Writes on both sides of the fork.
  std::string error;
  ASSERT_EQ(new_primary->Query("INSERT INTO t VALUES ('new-side') RETURNING v", &error), "new-side")
      << error;
  ASSERT_EQ(old_primary->Query("INSERT INTO t VALUES ('old-side') RETURNING v", &error), "old-side")
      << error;
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

}  // namespace pgrt::testing::repl
