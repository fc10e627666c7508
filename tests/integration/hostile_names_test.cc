// Names and passwords full of quotes, spaces, semicolons and dollars are legal in
// PostgreSQL: pgrt must pass them through exactly, never interpret them.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "harness/harness.h"

namespace pgrt::testing {

TEST(HostileNames, QuotedUserDatabaseAndPasswordWorkExactlyAndExtensionsAreCreated) {
  const std::string user = "we\"ird user";
  const std::string db = "my-db; drop $x";
  const std::string password = "pa'ss \"w$ord; x";
  PgrtNode node(Env{{"POSTGRES_USER", user},
                    {"POSTGRES_DB", db},
                    {"POSTGRES_PASSWORD", password},
                    {"POSTGRES_EXTENSIONS", "pg_trgm,hstore"}});
  // The init scripts connect through PGUSER/PGDATABASE: the names must reach them intact.
  std::filesystem::create_directory(node.dir() + "/initdb.d");
  WriteFileOrDie(node.dir() + "/initdb.d/01-mark.sql",
                 "CREATE TABLE marked AS SELECT current_user AS who, current_database() AS db;\n");

  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();

  std::string error;
  EXPECT_EQ(node.Query("SELECT current_user", &error), user) << error;
  EXPECT_EQ(node.Query("SELECT current_database()", &error), db) << error;
  EXPECT_EQ(node.Query("SELECT who || '|' || db FROM marked", &error), user + "|" + db) << error;
  EXPECT_EQ(node.Query("SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension "
                       "WHERE extname IN ('pg_trgm', 'hstore')",
                       &error),
            "hstore,pg_trgm")
      << error;
  EXPECT_EQ(node.Query("SELECT similarity('word', 'word')::text", &error), "1") << error;

  // The exact password and nothing like it.
  for (const std::string& wrong : {std::string("pa'ss"), std::string("pa''ss \"w$ord; x"),
                                   std::string("pa'ss \"w; x")}) {
    ConnParams p = node.Conn();
    p["password"] = wrong;
    EXPECT_FALSE(PgConn::Connect(p).ok()) << wrong;
  }

  // The node comes back on the same names.
  ASSERT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(node.Query("SELECT count(*) FROM marked", &error), "1") << error;
  auto status = node.Get("/__opr/status");
  EXPECT_EQ(status.status, 200) << status.body;
}

}  // namespace pgrt::testing
