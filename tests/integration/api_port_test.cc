// The API port belongs to one node: a second node on the same port must fail to start,
// never share the port and answer for the first.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "harness/harness.h"

namespace pgrt::testing {

TEST(ApiPort, ASecondNodeOnATakenApiPortExitsWithAnError) {
  PgrtNode first;
  first.Start();
  ASSERT_TRUE(first.WaitHealthy()) << first.Log();
  PgrtNode second(Env{{"PGRT_API_PORT", std::to_string(first.api_port())}});
  second.Start();
  auto exited = second.WaitExit(std::chrono::milliseconds(20000));
  ASSERT_TRUE(exited.has_value()) << second.Log();
  EXPECT_TRUE(WIFEXITED(*exited) && WEXITSTATUS(*exited) == 1) << second.Log();
  EXPECT_NE(second.Log().find("bind"), std::string::npos) << second.Log();
  EXPECT_EQ(first.Get("/__opr/health").status, 200);
}

}  // namespace pgrt::testing
