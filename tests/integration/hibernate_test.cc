// Hibernate and wake: postgres stops cleanly and starts again while pgrt keeps serving,
// any number of times in one pgrt life, with every committed row kept.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

using std::chrono::milliseconds;
constexpr const char* kToken = "hibernate-test-token";

HttpResponse Post(const PgrtNode& node, const std::string& path) {
  return HttpRequest(node.api_port(), "POST", path, kToken);
}

std::string Phase(const PgrtNode& node) {
  auto body = nlohmann::json::parse(node.Get("/__opr/status").body, nullptr, false);
  return body.is_object() && body.contains("phase") ? body["phase"].get<std::string>() : "";
}

}  // namespace

TEST(Hibernate, StopsPostgresKeepsTheApiAndWakesWithTheDataTwentyTimes) {
  PgrtNode node(Env{{"PGRT_API_TOKEN", kToken}});
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  std::string error;
  node.Query("CREATE TABLE t (i int)", &error);
  ASSERT_EQ(error, "");
  for (int round = 1; round <= 20; ++round) {
    node.Query("INSERT INTO t VALUES (" + std::to_string(round) + ")", &error);
    ASSERT_EQ(error, "") << "round " << round;
    const pid_t postmaster = node.PostmasterPid();
    HttpResponse slept = Post(node, "/__opr/hibernate");
    ASSERT_EQ(slept.status, 200) << slept.body << "\n" << node.Log();
    EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(postmaster); }, milliseconds(5000)));
    EXPECT_EQ(Phase(node), "hibernated");
    HttpResponse health = node.Get("/__opr/health");
    EXPECT_EQ(health.status, 503);
    EXPECT_EQ(health.body, "PostgreSQL is hibernated");
    EXPECT_EQ(node.Get("/primary").status, 503);
    EXPECT_EQ(node.Get("/liveness").status, 200);
    EXPECT_EQ(Post(node, "/__opr/hibernate").status, 200) << "hibernate is idempotent";
    HttpResponse woke = Post(node, "/__opr/wake");
    ASSERT_EQ(woke.status, 200) << woke.body << "\n" << node.Log();
    HttpResponse awake = node.Get("/__opr/health");
    EXPECT_EQ(awake.status, 200) << "round " << round << ": " << awake.body << "\n" << node.Log();
    EXPECT_EQ(node.Query("SELECT count(*) FROM t", &error), std::to_string(round)) << error;
  }
  EXPECT_EQ(Post(node, "/__opr/wake").status, 200) << "wake is idempotent";
  auto status = nlohmann::json::parse(node.Get("/__opr/status").body, nullptr, false);
  ASSERT_TRUE(status.contains("transitions")) << status.dump();
  EXPECT_EQ(status["transitions"].back()["to"], "running");
  EXPECT_EQ(status["transitions"].back()["why"], "postgres is ready");
  EXPECT_NE(node.Log().find("node: running → hibernating: hibernate requested through the API"),
            std::string::npos);
  EXPECT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
}

TEST(Hibernate, SigtermWhileHibernatedExitsCleanly) {
  PgrtNode node(Env{{"PGRT_API_TOKEN", kToken}});
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_EQ(Post(node, "/__opr/hibernate").status, 200);
  EXPECT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
}

TEST(Hibernate, NeedsTheToken) {
  PgrtNode node(Env{{"PGRT_API_TOKEN", kToken}});
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(HttpRequest(node.api_port(), "POST", "/__opr/hibernate").status, 401);
  EXPECT_EQ(HttpRequest(node.api_port(), "POST", "/__opr/hibernate", "wrong").status, 403);
  EXPECT_EQ(node.Get("/__opr/health").status, 200);
}

}  // namespace pgrt::testing
