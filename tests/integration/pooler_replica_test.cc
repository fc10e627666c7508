// PgBouncer on a replica: its auth role and lookup function come from the primary through
// replication (a replica is read-only), so clients log in through the replica's pooler.
#include <gtest/gtest.h>

#include "pooler_helpers.h"
#include "replication_helpers.h"

namespace pgrt::testing::pool {

TEST(PoolerReplica, ClientsLogInThroughAReplicasPoolerWithThePrimarysRoles) {
  auto primary = repl::NewPrimary(PoolerEnv());
  ASSERT_NO_FATAL_FAILURE(repl::StartHealthy(*primary));
  std::string error;
  primary->Query("CREATE ROLE reader LOGIN PASSWORD 'reader-pw'", &error);
  ASSERT_EQ(error, "");
  auto replica = repl::NewReplica(*primary, "pooled_slot", PoolerEnv());
  ASSERT_NO_FATAL_FAILURE(repl::StartHealthy(*replica));
  ASSERT_TRUE(repl::WaitStreaming(*primary, *replica)) << replica->Log();
  ASSERT_TRUE(WaitPoolerAnswers(*replica)) << replica->Log();

  auto c = PgConn::Connect(PoolerConn(*replica, "reader", "reader-pw"));
  ASSERT_TRUE(c.ok()) << c.status().message() << replica->Log();
  auto r = c->Exec("SELECT pg_is_in_recovery()");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Get(0, 0), "t");
  EXPECT_FALSE(PgConn::Connect(PoolerConn(*replica, "reader", "wrong")).ok());
  EXPECT_EQ(Value(Metrics(*replica), "pgbouncer_up"), 1.0);
}

}  // namespace pgrt::testing::pool
