// First boot of a standalone node against a real postgres.
#include <gtest/gtest.h>

#include "harness/harness.h"

namespace pgrt::testing {

TEST(FirstBoot, InitializesAndAnswersQueriesAsTheConfiguredUser) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(node.Query("SELECT current_user"), "app");
  EXPECT_EQ(node.Query("SELECT current_database()"), "appdb");
  auto timings = node.Get("/__opr/timings");
  EXPECT_EQ(timings.status, 200);
  EXPECT_EQ(timings.body.rfind("startup=", 0), 0u) << timings.body;
  auto stopped = node.Stop();
  ASSERT_TRUE(stopped.has_value());
  EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0) << node.Log();
}

}  // namespace pgrt::testing
