// Names and passwords full of quotes, spaces, semicolons and dollars: pgrt passes them
// through exactly and never interprets them; a name PostgreSQL itself cannot bootstrap is
// refused plainly.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "harness/harness.h"

namespace pgrt::testing {

TEST(HostileNames, QuotedUserDatabaseAndPasswordWorkExactlyAndExtensionsAreCreated) {
  // initdb refuses " $ ' \ in the superuser's name (see the next test); everything else goes.
  const std::string user = "We ird-User; DROP x %s";
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
  for (const std::string& wrong :
       {std::string("pa'ss"), std::string("pa''ss \"w$ord; x"), std::string("pa'ss \"w; x")}) {
    ConnParams p = node.Conn();
    p["password"] = wrong;
    EXPECT_FALSE(PgConn::Connect(p).ok()) << wrong;
  }

  // The node comes back on the same names.
  ASSERT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(node.Query("SELECT count(*) FROM marked", &error), "1") << error;
  EXPECT_EQ(node.Get("/__opr/status").status, 200);
}

TEST(HostileNames, ASuperuserNameInitdbCannotCreateIsAConfigurationErrorBeforeAnythingIsTouched) {
  for (const std::string user : {"we\"ird user", "o'brien", "cost$", "back\\slash"}) {
    PgrtNode node(Env{{"POSTGRES_USER", user}});
    node.Start();
    auto exited = node.WaitExit(std::chrono::milliseconds(30000));
    ASSERT_TRUE(exited.has_value()) << user << "\n" << node.Log();
    EXPECT_EQ(ExitCode(exited), 2) << user << "\n" << node.Log();
    std::string log = node.Log();
    EXPECT_NE(log.find("POSTGRES_USER"), std::string::npos) << log;
    EXPECT_EQ(log.find("initializing a new cluster"), std::string::npos) << log;
    EXPECT_FALSE(std::filesystem::exists(node.pgdata()));
  }
}

}  // namespace pgrt::testing
