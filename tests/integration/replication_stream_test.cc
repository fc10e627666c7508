// Streaming replication between real pgrt nodes: clone, stream, synchronous commit, a
// replica that starts before its primary, and a replica that outlives a primary restart.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "integration/replication_helpers.h"

namespace pgrt::testing::repl {

TEST(ReplicationStream, ReplicaClonesThePrimaryStreamsItsWritesAndRefusesWrites) {
  auto primary = NewPrimary();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  ASSERT_EQ(primary->Query("CREATE TABLE t (v text); INSERT INTO t VALUES ('before-clone') "
                           "RETURNING v"),
            "before-clone");
  auto replica = NewReplica(*primary, "replica_slot");
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  EXPECT_EQ(replica->Query("SELECT v FROM t"), "before-clone");

  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->Log();
  primary->Query("INSERT INTO t VALUES ('after-clone')");
  EXPECT_TRUE(WaitForValue(*replica, "SELECT count(*) FROM t WHERE v = 'after-clone'", "1"))
      << replica->Log();

  std::string error;
  EXPECT_EQ(replica->Query("INSERT INTO t VALUES ('on-replica') RETURNING v", &error), "");
  EXPECT_NE(error.find("read-only"), std::string::npos) << error;
  EXPECT_EQ(replica->Query("SELECT pg_is_in_recovery()"), "t");

  json p = Replication(*primary);
  EXPECT_EQ(Str(p, "mode"), "primary") << p.dump();
  EXPECT_EQ(Str(p, "role"), "primary") << p.dump();
  ASSERT_TRUE(p.contains("standbys") && p["standbys"].size() == 1u) << p.dump();
  EXPECT_EQ(Str(p["standbys"][0], "state"), "streaming") << p.dump();
  EXPECT_EQ(Str(p["standbys"][0], "clientAddr"), "127.0.0.1") << p.dump();
  EXPECT_EQ(p["connectedStandbys"], 1) << p.dump();
  bool slot_active = false;
  for (const json& s : p["replicationSlots"])
    if (Str(s, "slotName") == "replica_slot") slot_active = s["active"] == true;
  EXPECT_TRUE(slot_active) << p.dump();

  json r = Replication(*replica);
  EXPECT_EQ(Str(r, "mode"), "replica") << r.dump();
  EXPECT_EQ(Str(r, "role"), "replica") << r.dump();
  EXPECT_EQ(r["inRecovery"], true) << r.dump();
  EXPECT_EQ(Str(r["walReceiver"], "status"), "streaming") << r.dump();
  EXPECT_EQ(r["walReceiver"]["senderPort"], primary->pg_port()) << r.dump();
  EXPECT_EQ(Str(r["walReceiver"], "slotName"), "replica_slot") << r.dump();
  EXPECT_TRUE(r["lagBytes"].is_number_integer()) << r.dump();
  EXPECT_EQ(r["paused"], false) << r.dump();

  // The role checks agree once the monitor has observed each node.
  EXPECT_TRUE(WaitForStatus(*primary, "/primary", 200));
  EXPECT_TRUE(WaitForStatus(*replica, "/replica", 200));
  EXPECT_TRUE(WaitForStatus(*replica, "/replica?lag=16MB", 200));
  EXPECT_EQ(replica->Get("/primary").status, 503);
  EXPECT_EQ(primary->Get("/replica").status, 503);
  // As in Patroni, a malformed limit is no limit.
  EXPECT_EQ(replica->Get("/replica?lag=lots").status, 200);
  for (const PgrtNode* node : {primary.get(), replica.get()}) {
    EXPECT_EQ(node->Get("/read-only").status, 200);
    EXPECT_EQ(node->Get("/readiness").status, 200);
    EXPECT_EQ(HttpRequest(node->api_port(), "HEAD", node == primary.get() ? "/primary" : "/replica")
                  .status,
              200);
    EXPECT_EQ(
        HttpRequest(node->api_port(), "OPTIONS", node == primary.get() ? "/replica" : "/primary")
            .status,
        503);
  }
}

TEST(ReplicationStream, SynchronousStandbyIsReportedSyncAndCommitsWaitForIt) {
  auto primary = NewPrimary({{"POSTGRES_SYNCHRONOUS_STANDBY_NAMES", "r1"}});
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  auto replica =
      NewReplica(*primary, "r1_slot", {{"POSTGRES_PRIMARY_CONNINFO_EXTRA", "application_name=r1"}});
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->Log();

  ASSERT_TRUE(WaitUntil(
      [&] {
        json p = Replication(*primary);
        return p.contains("standbys") && p["standbys"].size() == 1u &&
               Str(p["standbys"][0], "syncState") == "sync";
      },
      milliseconds(10000), milliseconds(50)))
      << Replication(*primary).dump();
  json p = Replication(*primary);
  EXPECT_EQ(Str(p["standbys"][0], "applicationName"), "r1") << p.dump();
  EXPECT_EQ(Str(p, "synchronousStandbyNames"), "r1") << p.dump();

  // remote_apply: once the commit returns, the replica shows the row.
  auto start = std::chrono::steady_clock::now();
  TimedQuery q = QueryWithTimeout(*primary,
                                  "SET synchronous_commit = remote_apply;"
                                  " CREATE TABLE s (v int); INSERT INTO s VALUES (1)",
                                  milliseconds(10000));
  EXPECT_TRUE(q.connected && !q.timed_out && q.error.empty()) << q.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(replica->Query("SELECT count(*) FROM s"), "1");

  // Without its synchronous standby a commit waits (here until the client cancels the
  // wait): the setting is really in force.
  ASSERT_EQ(ExitCode(replica->Stop()), 0) << replica->Log();
  q = QueryWithTimeout(*primary, "INSERT INTO s VALUES (2)", milliseconds(1000));
  EXPECT_TRUE(q.connected) << q.error;
  EXPECT_TRUE(q.timed_out) << "a commit without its synchronous standby returned at once";

  // pgrt's own start-up writes (the replication role) must not wait for the absent standby.
  ASSERT_EQ(ExitCode(primary->Stop()), 0) << primary->Log();
  size_t mark = primary->LogSize();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  EXPECT_TRUE(WaitForStatus(*primary, "/primary", 200)) << primary->LogSince(mark);
}

TEST(ReplicationStream, TwoReplicasStreamThroughTheirOwnSlots) {
  auto primary = NewPrimary();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  primary->Query("CREATE TABLE t (v text)");
  auto r1 =
      NewReplica(*primary, "r1_slot", {{"POSTGRES_PRIMARY_CONNINFO_EXTRA", "application_name=r1"}});
  auto r2 =
      NewReplica(*primary, "r2_slot", {{"POSTGRES_PRIMARY_CONNINFO_EXTRA", "application_name=r2"}});
  r1->Start();
  r2->Start();
  ASSERT_TRUE(r1->WaitHealthy()) << r1->Log();
  ASSERT_TRUE(r2->WaitHealthy()) << r2->Log();

  ASSERT_TRUE(WaitUntil(
      [&] {
        json p = Replication(*primary);
        if (p["connectedStandbys"] != 2) return false;
        for (const json& s : p["standbys"])
          if (Str(s, "state") != "streaming") return false;
        int active = 0;
        for (const json& s : p["replicationSlots"])
          if ((Str(s, "slotName") == "r1_slot" || Str(s, "slotName") == "r2_slot") &&
              s["active"] == true)
            ++active;
        return active == 2;
      },
      milliseconds(30000), milliseconds(50)))
      << Replication(*primary).dump();
  json p = Replication(*primary);
  EXPECT_EQ(Str(p["standbys"][0], "applicationName"), "r1") << p.dump();
  EXPECT_EQ(Str(p["standbys"][1], "applicationName"), "r2") << p.dump();

  primary->Query("INSERT INTO t VALUES ('both')");
  EXPECT_TRUE(WaitForValue(*r1, "SELECT count(*) FROM t", "1"));
  EXPECT_TRUE(WaitForValue(*r2, "SELECT count(*) FROM t", "1"));
  // The views render the node's once-a-second observation: wait for one made after this.
  EXPECT_TRUE(
      WaitUntil([&] { return Str(Replication(*r1)["walReceiver"], "slotName") == "r1_slot"; },
                milliseconds(5000)))
      << Replication(*r1).dump();
  EXPECT_TRUE(
      WaitUntil([&] { return Str(Replication(*r2)["walReceiver"], "slotName") == "r2_slot"; },
                milliseconds(5000)))
      << Replication(*r2).dump();
}

TEST(ReplicationStream, ReplicationUserAndPasswordFullOfQuotesColonsAndBackslashesWork) {
  const Env hostile = {{"POSTGRES_REPLICATION_USER", "rep'l u:s\\er"},
                       {"POSTGRES_REPLICATION_PASSWORD", "p:a\\ss 'w\"o$rd; x=y"}};
  auto primary = NewPrimary(hostile);
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  primary->Query("CREATE TABLE t AS SELECT 'cloned'::text AS v");
  auto replica = NewReplica(*primary, "replica_slot", hostile);
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->Log();
  EXPECT_EQ(replica->Query("SELECT v FROM t"), "cloned");
  EXPECT_EQ(primary->Query("SELECT usename FROM pg_stat_replication"), "rep'l u:s\\er");
  // The password is in no settings file, only in the replica's private passfile.
  std::string settings = ReadFileOrEmpty(replica->pgdata() + "/pgrt.conf") +
                         ReadFileOrEmpty(replica->pgdata() + "/postgresql.auto.conf") +
                         ReadFileOrEmpty(replica->pgdata() + "/postgresql.conf");
  EXPECT_EQ(settings.find("w\"o$rd"), std::string::npos) << settings;
  EXPECT_EQ(replica->Log().find("w\"o$rd"), std::string::npos);
  EXPECT_EQ(primary->Log().find("w\"o$rd"), std::string::npos);
}

TEST(ReplicationStream, ReplicaStartedBeforeItsPrimaryWaitsThenClonesAndStreams) {
  auto primary = NewPrimary();
  auto replica = NewReplica(*primary, "replica_slot");
  replica->Start();
  // Nothing to clone yet: pgrt waits (not exits) and says it is not ready.
  EXPECT_TRUE(WaitForStatus(*replica, "/__opr/health", 503));
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_TRUE(replica->running()) << replica->Log();
  EXPECT_EQ(replica->Get("/__opr/health").status, 503);
  EXPECT_EQ(replica->Get("/replica").status, 503);
  EXPECT_EQ(replica->Get("/primary").status, 503);
  EXPECT_EQ(replica->Get("/__opr/replication").status, 503);
  EXPECT_FALSE(std::filesystem::exists(replica->pgdata() + "/PG_VERSION"));

  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  primary->Query("CREATE TABLE t AS SELECT 'from-primary'::text AS v");
  ASSERT_TRUE(replica->WaitHealthy(milliseconds(30000))) << replica->Log();
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->Log();
  EXPECT_TRUE(WaitForValue(*replica, "SELECT v FROM t", "from-primary")) << replica->Log();
}

TEST(ReplicationStream, ReplicaReconnectsByItselfAfterItsPrimaryRestarts) {
  auto primary = NewPrimary();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  primary->Query("CREATE TABLE t (v text)");
  auto replica = NewReplica(*primary, "replica_slot");
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->Log();

  ASSERT_EQ(ExitCode(primary->Stop(SIGTERM)), 0) << primary->Log();
  // The replica notices its primary is gone but keeps serving reads.
  EXPECT_TRUE(
      WaitUntil([&] { return Str(Replication(*replica)["walReceiver"], "status") != "streaming"; },
                milliseconds(10000), milliseconds(50)))
      << Replication(*replica).dump();
  EXPECT_TRUE(replica->running());
  EXPECT_EQ(replica->Query("SELECT count(*) FROM t"), "0");

  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));  // same PGDATA, same ports
  primary->Query("INSERT INTO t VALUES ('after-restart')");
  EXPECT_TRUE(WaitForValue(*replica, "SELECT count(*) FROM t WHERE v = 'after-restart'", "1",
                           milliseconds(30000)))
      << replica->Log();
  EXPECT_TRUE(WaitStreaming(*primary, *replica)) << replica->Log();
}

}  // namespace pgrt::testing::repl
