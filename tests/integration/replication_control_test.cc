// The replication control API against real nodes: pause/resume of WAL replay, promotion
// (API and `pgrt promote`), physical slots, authentication, and calls made to the wrong role.
#include <gtest/gtest.h>

#include <string>

#include "integration/replication_helpers.h"

namespace pgrt::testing::repl {
namespace {

bool Paused(const PgrtNode& replica) { return Replication(replica)["paused"] == true; }

std::string SlotCount(const PgrtNode& primary) {
  return primary.Query("SELECT count(*) FROM pg_replication_slots");
}

bool HasSlot(const json& replication, const std::string& name) {
  if (!replication.contains("replicationSlots")) return false;
  for (const json& s : replication["replicationSlots"])
    if (Str(s, "slotName") == name) return true;
  return false;
}

}  // namespace

TEST(ReplicationControl, PauseStopsReplayAndResumeCatchesUp) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica));

  JsonResponse paused = Call(*replica, "POST", "/__opr/replication/pause");
  ASSERT_EQ(paused.status, 200) << paused.body.dump();
  EXPECT_EQ(paused.body["success"], true) << paused.body.dump();
  EXPECT_TRUE(Paused(*replica)) << Replication(*replica).dump();

  primary->Query("INSERT INTO t VALUES ('while-paused')");
  // The WAL arrives but is not replayed: the row stays invisible.
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_EQ(replica->Query("SELECT count(*) FROM t"), "0");
  EXPECT_TRUE(Paused(*replica));

  // Received but unreplayed WAL is lag: /replica?lag= turns it away past the limit.
  primary->Query(
      "CREATE TABLE bulk AS SELECT repeat('x', 1000) AS v FROM generate_series(1, 3000)");
  EXPECT_TRUE(WaitForStatus(*replica, "/replica?lag=1MB", 503)) << Replication(*replica).dump();
  EXPECT_EQ(replica->Get("/replica").status, 200);
  EXPECT_EQ(replica->Get("/replica?lag=1GB").status, 200);
  json lagging = Replication(*replica);
  EXPECT_GT(lagging["lagBytes"].get<int64_t>(), 1 << 20) << lagging.dump();

  JsonResponse resumed = Call(*replica, "POST", "/__opr/replication/resume");
  ASSERT_EQ(resumed.status, 200) << resumed.body.dump();
  EXPECT_EQ(resumed.body["success"], true) << resumed.body.dump();
  EXPECT_TRUE(WaitForValue(*replica, "SELECT count(*) FROM t", "1")) << replica->Log();
  EXPECT_FALSE(Paused(*replica)) << Replication(*replica).dump();
  EXPECT_TRUE(WaitForStatus(*replica, "/replica?lag=1MB", 200)) << Replication(*replica).dump();
}

TEST(ReplicationControl, ControlCallsNeedTheBearerTokenAndChangeNothingWithoutIt) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica));

  JsonResponse none = Call(*replica, "POST", "/__opr/replication/pause", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_TRUE(none.body.contains("error")) << none.body.dump();
  JsonResponse wrong = Call(*replica, "POST", "/__opr/replication/pause", "not-the-token");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_TRUE(wrong.body.contains("error")) << wrong.body.dump();
  // A token that shares a prefix with the real one, and the real one with a suffix.
  EXPECT_EQ(Call(*replica, "POST", "/__opr/replication/pause", "repl-test").status, 403);
  EXPECT_EQ(Call(*replica, "POST", "/__opr/replication/pause", std::string(kApiToken) + "x").status,
            403);
  EXPECT_EQ(Call(*replica, "POST", "/__opr/replication/promote", "").status, 401);
  EXPECT_EQ(Call(*replica, "POST", "/__opr/replication/promote", "wrong").status, 403);
  EXPECT_EQ(Call(*primary, "POST", "/__opr/replication/slot/sneaky", "").status, 401);
  EXPECT_EQ(Call(*primary, "DELETE", "/__opr/replication/slot/replica_slot", "wrong").status, 403);

  EXPECT_FALSE(Paused(*replica)) << Replication(*replica).dump();
  EXPECT_EQ(replica->Query("SELECT pg_is_in_recovery()"), "t");
  EXPECT_EQ(primary->Query("SELECT count(*) FROM pg_replication_slots WHERE slot_name "
                           "IN ('sneaky', 'replica_slot')"),
            "1");
  // Reads need no token.
  EXPECT_EQ(replica->Get("/__opr/replication").status, 200);
}

TEST(ReplicationControl, MutatingCallsAreRefusedWhenNoTokenIsConfigured) {
  PgrtNode node({{"POSTGRES_REPLICATION_MODE", "primary"},
                 {"POSTGRES_REPLICATION_PASSWORD", kReplicationPassword}});
  ASSERT_NO_FATAL_FAILURE(StartHealthy(node));
  std::string before = SlotCount(node);
  for (const std::string token : {"", "anything", kApiToken}) {
    JsonResponse r = Call(node, "POST", "/__opr/replication/slot/from_anyone", token);
    EXPECT_EQ(r.status, token.empty() ? 401 : 403) << token << " " << r.body.dump();
  }
  EXPECT_EQ(Call(node, "POST", "/__opr/replication/pause", "anything").status, 403);
  EXPECT_EQ(SlotCount(node), before);
}

TEST(ReplicationControl, CallsForTheOtherRoleAre400AndChangeNothing) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica));

  for (const char* verb : {"pause", "resume", "promote"}) {
    JsonResponse r = Call(*primary, "POST", std::string("/__opr/replication/") + verb);
    EXPECT_EQ(r.status, 400) << verb << " " << r.body.dump();
    EXPECT_EQ(Str(r.body, "error"), "Only available on replica") << r.body.dump();
  }
  EXPECT_EQ(primary->Query("SELECT pg_is_in_recovery()"), "f");
  primary->Query("INSERT INTO t VALUES ('still-streaming')");
  EXPECT_TRUE(WaitForValue(*replica, "SELECT count(*) FROM t", "1")) << replica->Log();

  std::string slots = SlotCount(*primary);
  JsonResponse create = Call(*replica, "POST", "/__opr/replication/slot/on_replica");
  EXPECT_EQ(create.status, 400) << create.body.dump();
  EXPECT_EQ(Str(create.body, "error"), "Only available on primary") << create.body.dump();
  JsonResponse drop = Call(*replica, "DELETE", "/__opr/replication/slot/replica_slot");
  EXPECT_EQ(drop.status, 400) << drop.body.dump();
  EXPECT_EQ(Str(drop.body, "error"), "Only available on primary") << drop.body.dump();
  // The role decides before the name is looked at, as in the runtime.
  EXPECT_EQ(Str(Call(*replica, "POST", "/__opr/replication/slot/Bad-Name").body, "error"),
            "Only available on primary");
  EXPECT_EQ(SlotCount(*primary), slots);
  EXPECT_EQ(replica->Query("SELECT count(*) FROM pg_replication_slots"), "0");
  EXPECT_EQ(replica->Query("SELECT pg_is_in_recovery()"), "t");
  EXPECT_TRUE(WaitStreaming(*primary, *replica));
}

TEST(ReplicationControl, PromoteThroughTheApiMakesTheReplicaAWritablePrimary) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica));
  ASSERT_TRUE(WaitForStatus(*replica, "/replica", 200));
  ASSERT_EQ(replica->Get("/primary").status, 503);

  JsonResponse r = Call(*replica, "POST", "/__opr/replication/promote");
  ASSERT_EQ(r.status, 200) << r.body.dump() << replica->Log();
  EXPECT_EQ(r.body["success"], true) << r.body.dump();
  EXPECT_EQ(Str(r.body, "message"), "Promotion initiated. Server will become primary.")
      << r.body.dump();

  // pg_promote(wait => true) has returned: writable at once.
  std::string error;
  EXPECT_EQ(replica->Query("INSERT INTO t VALUES ('on-new-primary') RETURNING v", &error),
            "on-new-primary")
      << error;
  EXPECT_TRUE(WaitForStatus(*replica, "/primary", 200));
  EXPECT_TRUE(WaitForStatus(*replica, "/replica", 503));
  json view = Replication(*replica);
  EXPECT_EQ(Str(view, "role"), "primary") << view.dump();
  // The role file keeps the promotion; the status shows the controller's moves.
  json role = json::parse(ReadFileOrEmpty(replica->pgdata() + "/pgrt.role"), nullptr, false);
  ASSERT_FALSE(role.is_discarded());
  EXPECT_EQ(role["topology"]["role"], "primary") << role.dump();
  EXPECT_EQ(Str(role, "why"), "promote requested through the API") << role.dump();
  json status = GetJson(replica->api_port(), "/__opr/status").value_or(json());
  std::string moves = status["transitions"].dump();
  EXPECT_NE(moves.find("\"to\":\"promoting\""), std::string::npos) << moves;
  EXPECT_NE(moves.find("postgres left recovery"), std::string::npos) << moves;
  EXPECT_EQ(Str(status["replication"], "mode"), "primary") << status.dump();

  // The old primary is still a primary: promoting it is a role error.
  JsonResponse again = Call(*primary, "POST", "/__opr/replication/promote");
  EXPECT_EQ(again.status, 400) << again.body.dump();
  EXPECT_EQ(Str(again.body, "error"), "Only available on replica") << again.body.dump();
  // So is promoting the promoted node a second time: it is a primary now.
  JsonResponse twice = Call(*replica, "POST", "/__opr/replication/promote");
  EXPECT_EQ(twice.status, 400) << twice.body.dump();
  EXPECT_EQ(Str(twice.body, "error"), "Only available on replica") << twice.body.dump();
}

TEST(ReplicationControl, PgrtPromoteCliPromotesAReplicaAndPgrtStatusPrintsJson) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica, "cli_slot"));
  Env cli = {{"PGRT_API_ADDRESS", "127.0.0.1"},
             {"PGRT_API_PORT", std::to_string(replica->api_port())},
             {"PGRT_API_TOKEN", kApiToken}};

  CommandOutput status = RunPgrt({"status"}, cli);
  EXPECT_EQ(status.exit_code, 0) << status.output;
  json before = json::parse(status.output, nullptr, false);
  ASSERT_FALSE(before.is_discarded()) << status.output;
  EXPECT_EQ(Str(before, "engine"), "postgres") << status.output;
  EXPECT_EQ(before["ready"], true) << status.output;
  EXPECT_EQ(Str(before["replication"], "role"), "replica") << status.output;

  // Without the token the CLI fails and the replica stays a replica.
  Env no_token = cli;
  no_token.erase("PGRT_API_TOKEN");
  CommandOutput refused = RunPgrt({"promote"}, no_token);
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_EQ(replica->Query("SELECT pg_is_in_recovery()"), "t");

  CommandOutput promoted = RunPgrt({"promote"}, cli);
  EXPECT_EQ(promoted.exit_code, 0) << promoted.output << replica->Log();
  json answer = json::parse(promoted.output, nullptr, false);
  EXPECT_TRUE(!answer.is_discarded() && answer["success"] == true) << promoted.output;
  EXPECT_EQ(replica->Query("SELECT pg_is_in_recovery()"), "f");
  std::string error;
  EXPECT_EQ(replica->Query("INSERT INTO t VALUES ('cli') RETURNING v", &error), "cli") << error;

  CommandOutput after = RunPgrt({"status"}, cli);
  json j = json::parse(after.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << after.output;
  EXPECT_EQ(Str(j["replication"], "role"), "primary") << after.output;

  // Promoting the promoted node again is refused, and the CLI says so by its exit code.
  CommandOutput twice = RunPgrt({"promote"}, cli);
  EXPECT_NE(twice.exit_code, 0) << twice.output;
}

TEST(ReplicationControl, SlotsAreCreatedListedAndDroppedOnThePrimary) {
  auto primary = NewPrimary();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));

  JsonResponse created = Call(*primary, "POST", "/__opr/replication/slot/my_slot");
  ASSERT_EQ(created.status, 200) << created.body.dump();
  EXPECT_EQ(created.body["success"], true) << created.body.dump();
  EXPECT_EQ(Str(created.body, "message"), "Replication slot 'my_slot' created");
  json view = Replication(*primary);
  EXPECT_TRUE(HasSlot(view, "my_slot")) << view.dump();
  EXPECT_EQ(
      primary->Query("SELECT slot_type FROM pg_replication_slots WHERE slot_name = 'my_slot'"),
      "physical");

  JsonResponse dup = Call(*primary, "POST", "/__opr/replication/slot/my_slot");
  EXPECT_EQ(dup.status, 409) << dup.body.dump();
  EXPECT_EQ(Str(dup.body, "error"), "replication slot \"my_slot\" already exists");

  JsonResponse dropped = Call(*primary, "DELETE", "/__opr/replication/slot/my_slot");
  EXPECT_EQ(dropped.status, 200) << dropped.body.dump();
  EXPECT_EQ(Str(dropped.body, "message"), "Replication slot 'my_slot' dropped");
  EXPECT_FALSE(HasSlot(Replication(*primary), "my_slot"));
  JsonResponse gone = Call(*primary, "DELETE", "/__opr/replication/slot/my_slot");
  EXPECT_EQ(gone.status, 404) << gone.body.dump();
  EXPECT_EQ(Str(gone.body, "error"), "replication slot \"my_slot\" does not exist");
}

TEST(ReplicationControl, DroppingTheSlotOfAStreamingReplicaIs409) {
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica, "busy_slot"));
  JsonResponse r = Call(*primary, "DELETE", "/__opr/replication/slot/busy_slot");
  EXPECT_EQ(r.status, 409) << r.body.dump();
  EXPECT_EQ(Str(r.body, "error").rfind("replication slot \"busy_slot\" is active for PID ", 0), 0u)
      << r.body.dump();
  EXPECT_TRUE(HasSlot(Replication(*primary), "busy_slot"));
  EXPECT_TRUE(WaitStreaming(*primary, *replica));
}

TEST(ReplicationControl, HostileSlotNamesAre400AndCreateNothing) {
  auto primary = NewPrimary();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  std::string before = SlotCount(*primary);
  ASSERT_NE(before, "");

  const std::string names[] = {"Bad-Name",
                               "a;drop",
                               std::string(64, 'a'),
                               "",
                               "%27quote",
                               "a%20b",
                               "%00",
                               "x'%3B%20DROP%20TABLE%20t%3B--",
                               "..",
                               "%C3%A9t%C3%A9"};
  for (const std::string& name : names) {
    for (const char* method : {"POST", "DELETE"}) {
      JsonResponse r = Call(*primary, method, "/__opr/replication/slot/" + name);
      EXPECT_EQ(r.status, 400) << method << " '" << name << "': " << r.body.dump();
      EXPECT_EQ(Str(r.body, "error"),
                "Invalid slot name (use lowercase letters, numbers, underscores)")
          << method << " '" << name << "': " << r.body.dump();
    }
  }
  EXPECT_EQ(SlotCount(*primary), before);
  // The longest valid name still works: the limit is exactly 63.
  EXPECT_EQ(Call(*primary, "POST", "/__opr/replication/slot/" + std::string(63, 'a')).status, 200);
}

// A slot on a standalone node has no reader: it would keep WAL until the disk is full. The
// node's role decides, not "postgres is not in recovery" (a standalone is not either).
TEST(ReplicationControl, SlotCallsOnAStandaloneNodeAreRefusedAndCreateNothing) {
  PgrtNode node(Env{{"PGRT_API_TOKEN", kApiToken}});
  ASSERT_NO_FATAL_FAILURE(StartHealthy(node));
  for (const char* method : {"POST", "DELETE"}) {
    JsonResponse r = Call(node, method, "/__opr/replication/slot/orphan_slot");
    EXPECT_EQ(r.status, 400) << method << " " << r.body.dump();
    EXPECT_EQ(Str(r.body, "error"), "Only available on primary") << r.body.dump();
  }
  node.Query("SELECT pg_create_physical_replication_slot('made_by_hand')");
  EXPECT_EQ(Call(node, "DELETE", "/__opr/replication/slot/made_by_hand").status, 400);
  EXPECT_EQ(node.Query("SELECT string_agg(slot_name, ',') FROM pg_replication_slots"),
            "made_by_hand");
  for (const char* verb : {"pause", "resume", "promote"}) {
    JsonResponse r = Call(node, "POST", std::string("/__opr/replication/") + verb);
    EXPECT_EQ(r.status, 400) << verb << " " << r.body.dump();
    EXPECT_EQ(Str(r.body, "error"), "Only available on replica") << r.body.dump();
  }
}

}  // namespace pgrt::testing::repl
