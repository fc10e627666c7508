// The API accepts the Bearer scheme in any case (RFC 9110), end to end through the server.
#include <gtest/gtest.h>
#include <httplib.h>

#include <string>
#include <vector>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

constexpr char kToken[] = "bearer-case-token";

int PostWithAuthorization(int port, const std::string& authorization) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(5);
  cli.set_read_timeout(10);
  httplib::Headers headers;
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  // Pausing replay is refused on a standalone node, after the token was checked.
  auto r = cli.Post("/__opr/replication/pause", headers, "", "text/plain");
  return r ? r->status : 0;
}

TEST(ApiBearer, TheSchemeIsAcceptedInAnyCaseAndTheTokenStillDecides) {
  PgrtNode node(Env{{"PGRT_API_TOKEN", kToken}});
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  const int port = node.api_port();
  for (const std::string scheme : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
    SCOPED_TRACE(scheme);
    const int accepted = PostWithAuthorization(port, scheme + " " + kToken);
    EXPECT_NE(accepted, 0);
    EXPECT_NE(accepted, 401);
    EXPECT_NE(accepted, 403);
    EXPECT_EQ(PostWithAuthorization(port, scheme + " wrong-token"), 403);
  }
  EXPECT_EQ(PostWithAuthorization(port, ""), 401);
  EXPECT_EQ(PostWithAuthorization(port, std::string("Basic ") + kToken), 401);
}

}  // namespace
}  // namespace pgrt::testing
