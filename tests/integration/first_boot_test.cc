// First boot of a standalone node against a real postgres.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

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

// Without init scripts no temporary server starts: single-user backends create the database
// and the extensions, hostile names included, and the first start is postgres's only one.
TEST(FirstBoot, WithoutInitScriptsTheSetUpNeedsNoServerAndHostileNamesSurvive) {
  const std::string db = "my\"db; drop $x 'y'";
  PgrtNode node(Env{{"POSTGRES_DB", db}, {"POSTGRES_EXTENSIONS", "pg_trgm,hstore"}});
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  const std::string log = node.Log();
  EXPECT_NE(log.find("single-user mode"), std::string::npos) << log;
  EXPECT_EQ(log.find("temporary server"), std::string::npos) << log;
  // One postmaster start in the whole log: the node's own.
  size_t starts = 0;
  for (size_t at = log.find("starting PostgreSQL"); at != std::string::npos;
       at = log.find("starting PostgreSQL", at + 1))
    ++starts;
  EXPECT_EQ(starts, 1u) << log;
  std::string error;
  EXPECT_EQ(node.Query("SELECT current_database()", &error), db) << error;
  EXPECT_EQ(
      node.Query("SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension", &error),
      "hstore,pg_stat_statements,pg_trgm,plpgsql")
      << error;
  // The set-up ran with fsync off; what counts is that a restart finds it all.
  ASSERT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(node.Query("SELECT count(*) FROM pg_extension WHERE extname = 'hstore'", &error), "1")
      << error;
}

// A missing extension ends the first boot with its name, and nothing counts as a cluster: the
// next start (extension list fixed) initializes from scratch.
TEST(FirstBoot, AnExtensionThatDoesNotExistIsNamedAndLeavesNoCluster) {
  PgrtNode node(Env{{"POSTGRES_EXTENSIONS", "hstore,no_such_extension_x"}});
  node.Start();
  auto exited = node.WaitExit(std::chrono::milliseconds(60000));
  ASSERT_TRUE(exited.has_value()) << node.Log();
  EXPECT_EQ(ExitCode(exited), 1) << node.Log();
  EXPECT_NE(node.Log().find("no_such_extension_x"), std::string::npos) << node.Log();
  EXPECT_FALSE(std::filesystem::exists(node.pgdata() + "/PG_VERSION"));
  node.env()["POSTGRES_EXTENSIONS"] = "hstore";
  size_t mark = node.LogSize();
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.LogSince(mark);
  EXPECT_EQ(node.Query("SELECT count(*) FROM pg_extension WHERE extname = 'hstore'"), "1");
}

}  // namespace pgrt::testing
