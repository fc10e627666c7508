// AsyncPgConn's prepared, pipelined requests (QueryPrepared, what a /metrics scrape uses)
// against a real postgres: statements are prepared once per connection, answers come back
// one per statement in order, and a failure is reported and leaves a usable connection.
#include <gtest/gtest.h>

#include "harness/harness.h"
#include "integration/loop_turns.h"
#include "pg/async_conn.h"

namespace pgrt::testing {
namespace {

class AsyncPgPrepared : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop_.Init().ok());
    node_.Start();
    ASSERT_TRUE(node_.WaitHealthy()) << node_.Log();
    conn_.emplace(loop_, node_.Conn());
  }
  Result<AsyncPgConn::Results> Prepared(std::vector<std::string> statements) {
    return TurnForAnswer<AsyncPgConn::Results>(
        loop_, [&](auto done) { conn_->QueryPrepared(statements, Millis(5000), std::move(done)); });
  }

  PgrtNode node_;
  RealClock clock_;
  EventLoop loop_{clock_};
  std::optional<AsyncPgConn> conn_;
};

// The statement that lists the connection's prepared statements, and a second one.
const std::vector<std::string> kTwo = {
    "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'pgrt\\_%'",
    "SELECT generate_series(1, 3)"};

TEST_F(AsyncPgPrepared, AnswersOnePerStatementInOrderAndPreparesEachOncePerConnection) {
  auto first = Prepared(kTwo);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_EQ(first->size(), 2u);
  // Prepared one by one in the pipeline: the first statement sees only itself.
  EXPECT_EQ((*first)[0].Get(0, 0), "1");
  EXPECT_EQ((*first)[1].rows(), 3);
  EXPECT_EQ((*first)[1].Get(2, 0), "3");
  for (int i = 0; i < 3; ++i) {
    auto again = Prepared(kTwo);
    ASSERT_TRUE(again.ok()) << again.status().message();
    ASSERT_EQ(again->size(), 2u);
    // Both stay prepared, neither twice (a second PREPARE of a name would fail anyway).
    EXPECT_EQ((*again)[0].Get(0, 0), "2");
  }
  // The server parsed the statement once and ran it four times (the pattern is spelled so
  // that this statement does not match itself).
  auto calls =
      Prepared({"SELECT sum(generic_plans + custom_plans) FROM pg_prepared_statements"
                " WHERE name LIKE 'pgrt\\_%' AND statement LIKE '%generate' || '_series%'"});
  ASSERT_TRUE(calls.ok()) << calls.status().message();
  EXPECT_EQ((*calls)[0].Get(0, 0), "4");
}

TEST_F(AsyncPgPrepared, AFailingStatementFailsTheCallWithItsOwnErrorAndTheNextCallWorks) {
  ASSERT_TRUE(Prepared(kTwo).ok());
  auto failed = Prepared({"SELECT 1", "SELECT 1 / 0", "SELECT 2"});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("division by zero"), std::string::npos)
      << failed.status().message();
  // A new connection: the statements are prepared again on it.
  auto after = Prepared(kTwo);
  ASSERT_TRUE(after.ok()) << after.status().message();
  EXPECT_EQ((*after)[0].Get(0, 0), "1");
}

TEST_F(AsyncPgPrepared, SimpleAndPreparedRequestsShareTheConnectionInTheirOrder) {
  std::vector<std::string> order;
  conn_->QueryPrepared(kTwo, Millis(5000), [&](auto r) {
    order.push_back(r.ok() ? "prepared" : r.status().message());
  });
  conn_->Query("SELECT 1; SELECT 2", Millis(5000), [&](auto r) {
    order.push_back(r.ok() && r->size() == 2 ? "simple" : "simple failed");
  });
  conn_->QueryPrepared({"SELECT 3"}, Millis(5000), [&](auto r) {
    order.push_back(r.ok() && (*r)[0].Get(0, 0) == "3" ? "prepared again" : "failed");
  });
  ASSERT_TRUE(TurnUntil(loop_, [&] { return order.size() == 3; }));
  EXPECT_EQ(order, (std::vector<std::string>{"prepared", "simple", "prepared again"}));
}

}  // namespace
}  // namespace pgrt::testing
