// The official postgres image's _FILE variables for what is not a secret: a node whose user,
// database and initdb arguments all come from files, as a compose file written for that
// image gives them.
#include <gtest/gtest.h>

#include <string>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

using std::chrono::milliseconds;

TEST(OfficialImageFiles, UserDatabaseAndInitdbArgumentsComeFromFiles) {
  TempDir files;
  WriteFileOrDie(files.Sub("user"), "file_owner\n");
  WriteFileOrDie(files.Sub("db"), "file_db\n");
  // Two lines, as such files are often written: both arguments reach initdb.
  WriteFileOrDie(files.Sub("initdb_args"), "--data-checksums\n--locale=C\n");
  PgrtNode node(Env{{"POSTGRES_USER", ""},
                    {"POSTGRES_DB", ""},
                    {"POSTGRES_USER_FILE", files.Sub("user")},
                    {"POSTGRES_DB_FILE", files.Sub("db")},
                    {"POSTGRES_INITDB_ARGS_FILE", files.Sub("initdb_args")}});
  node.Start();
  ASSERT_TRUE(node.WaitHealthy(milliseconds(30000))) << node.Log();

  ConnParams params = node.Conn();
  params["user"] = "file_owner";
  params["dbname"] = "file_db";
  auto conn = PgConn::Connect(params);
  ASSERT_TRUE(conn.ok()) << conn.status().message() << node.Log();
  auto r = conn->Exec(
      "SELECT current_user || ',' || current_database() || ',' || "
      "current_setting('data_checksums') || ',' || current_setting('lc_collate')");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->Get(0, 0), "file_owner,file_db,on,C");
  EXPECT_EQ(node.Log().find("is ignored"), std::string::npos)
      << "no _FILE variable is reported unknown:\n"
      << node.Log();
}

}  // namespace
}  // namespace pgrt::testing
