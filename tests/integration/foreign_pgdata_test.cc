// A PGDATA that holds files but no cluster belongs to someone else: pgrt refuses to start
// and leaves every file as it was.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "harness/harness.h"

namespace pgrt::testing {

TEST(ForeignPgdata, RefusesWithExit1AndLeavesTheFilesUntouched) {
  PgrtNode node;
  std::filesystem::create_directory(node.pgdata());
  ::chmod(node.pgdata().c_str(), 0750);
  const std::string keep = node.pgdata() + "/keep.txt";
  WriteFileOrDie(keep, "precious user data\n", 0640);

  node.Start();
  auto exited = node.WaitExit(std::chrono::milliseconds(30000));
  ASSERT_TRUE(exited.has_value()) << node.Log();
  EXPECT_EQ(ExitCode(exited), 1) << node.Log();
  std::string log = node.Log();
  EXPECT_NE(log.find("no PostgreSQL cluster"), std::string::npos) << log;
  EXPECT_NE(log.find(node.pgdata()), std::string::npos) << log;

  EXPECT_EQ(ReadFileOrEmpty(keep), "precious user data\n");
  struct stat st {};
  ASSERT_EQ(::stat(keep.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  std::vector<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(node.pgdata()))
    entries.push_back(e.path().filename().string());
  EXPECT_EQ(entries, std::vector<std::string>{"keep.txt"});
}

}  // namespace pgrt::testing
