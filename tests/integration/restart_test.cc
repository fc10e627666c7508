// A second start on an existing data directory: the data stays, initdb does not run again,
// the user's postgresql.conf stays theirs, and the files pgrt owns come out byte-identical.
#include <gtest/gtest.h>
#include <signal.h>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

}  // namespace

TEST(RestartOnExistingData, KeepsDataSkipsInitdbAndKeepsUserEditsWhileRegeneratingOwnFiles) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  std::string error;
  node.Query("CREATE TABLE kept(v text); INSERT INTO kept VALUES ('before restart')", &error);
  ASSERT_EQ(error, "");
  ASSERT_NE(node.Get("/__opr/timings").body.find("initdb="), std::string::npos);
  ASSERT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();

  const std::string conf = node.pgdata() + "/postgresql.conf";
  const std::string pgrt_conf_path = node.pgdata() + "/pgrt.conf";
  const std::string hba_path = node.pgdata() + "/pg_hba.conf";
  const std::string pgrt_conf = ReadFileOrEmpty(pgrt_conf_path);
  const std::string hba = ReadFileOrEmpty(hba_path);
  ASSERT_FALSE(pgrt_conf.empty());
  ASSERT_FALSE(hba.empty());
  // A user's own edit, appended as a person with an editor would.
  std::string user_conf = ReadFileOrEmpty(conf);
  ASSERT_FALSE(user_conf.empty());
  user_conf += "pgrt_test.marker = 'kept-by-user'\n";
  WriteFileOrDie(conf, user_conf, 0600);

  size_t mark = node.LogSize();
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.LogSince(mark);
  std::string second = node.LogSince(mark);

  EXPECT_EQ(node.Query("SELECT v FROM kept"), "before restart");
  EXPECT_NE(second.find("reusing the existing cluster"), std::string::npos) << second;
  EXPECT_EQ(second.find("initializing a new cluster"), std::string::npos) << second;
  auto timings = node.Get("/__opr/timings");
  EXPECT_EQ(timings.status, 200);
  EXPECT_EQ(timings.body.rfind("startup=", 0), 0u) << timings.body;
  EXPECT_EQ(timings.body.find("initdb="), std::string::npos) << timings.body;

  EXPECT_EQ(node.Query("SELECT current_setting('pgrt_test.marker')"), "kept-by-user");
  std::string conf_after = ReadFileOrEmpty(conf);
  EXPECT_NE(conf_after.find("pgrt_test.marker = 'kept-by-user'"), std::string::npos);
  EXPECT_EQ(Count(conf_after, "include_if_exists = 'pgrt.conf'"), 1u) << conf_after;

  EXPECT_EQ(ReadFileOrEmpty(pgrt_conf_path), pgrt_conf);
  EXPECT_EQ(ReadFileOrEmpty(hba_path), hba);
  EXPECT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();
}

TEST(RestartOnExistingData, RewritesTamperedManagedFilesBackToTheirRenderedContent) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ASSERT_EQ(ExitCode(node.Stop(SIGTERM)), 0) << node.Log();

  const std::string pgrt_conf_path = node.pgdata() + "/pgrt.conf";
  const std::string hba_path = node.pgdata() + "/pg_hba.conf";
  const std::string pgrt_conf = ReadFileOrEmpty(pgrt_conf_path);
  const std::string hba = ReadFileOrEmpty(hba_path);
  WriteFileOrDie(pgrt_conf_path, pgrt_conf + "max_connections = 7\n", 0600);
  WriteFileOrDie(hba_path, "host all all 127.0.0.1/32 trust\n", 0600);

  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  EXPECT_EQ(ReadFileOrEmpty(pgrt_conf_path), pgrt_conf);
  EXPECT_EQ(ReadFileOrEmpty(hba_path), hba);
  EXPECT_EQ(node.Query("SHOW max_connections"), "100");
  // Without the tampered trust line a wrong password is refused.
  ConnParams wrong = node.Conn();
  wrong["password"] = "not-the-password";
  EXPECT_FALSE(PgConn::Connect(wrong).ok());
}

}  // namespace pgrt::testing
