// Started as root, pgrt changes the owner or mode only of directories it creates, of empty
// ones, or of ones holding its cluster; never through a symbolic link. Everything else is
// used as it is (a sticky, world-writable socket directory) or refused, and stays as it was.
// Every directory here is a throwaway one in the test's own temp dir.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

constexpr uid_t kStranger = 4321;  // an account that is neither root nor postgres

struct Owner {
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;
};

Owner OwnerOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return {st.st_uid, st.st_gid, st.st_mode & 07777};
}

// A directory of the stranger's, mode 0750, holding one file of theirs.
void MakeStrangersDirectory(const std::string& path) {
  std::filesystem::create_directories(path);
  WriteFileOrDie(path + "/theirs.txt", "someone else's file\n", 0640);
  ASSERT_EQ(::chown((path + "/theirs.txt").c_str(), kStranger, kStranger), 0);
  ASSERT_EQ(::chown(path.c_str(), kStranger, kStranger), 0);
  ASSERT_EQ(::chmod(path.c_str(), 0750), 0);
}

void ExpectStrangersDirectoryUntouched(const std::string& path) {
  Owner o = OwnerOf(path);
  EXPECT_EQ(o.uid, kStranger) << path;
  EXPECT_EQ(o.gid, kStranger) << path;
  EXPECT_EQ(o.mode, 0750u) << path;
  Owner f = OwnerOf(path + "/theirs.txt");
  EXPECT_EQ(f.uid, kStranger);
  EXPECT_EQ(f.mode, 0640u);
  EXPECT_EQ(ReadFileOrEmpty(path + "/theirs.txt"), "someone else's file\n");
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path)) ++entries;
  EXPECT_EQ(entries, 1u) << "pgrt added files to " << path;
}

// Starts the node and expects it to give up with exit code 1 and `words` in its log.
void ExpectRefusal(PgrtNode& node, const std::vector<std::string>& words) {
  node.Start();
  auto exited = node.WaitExit(std::chrono::milliseconds(30000));
  ASSERT_TRUE(exited.has_value()) << node.Log();
  EXPECT_EQ(ExitCode(exited), 1) << node.Log();
  const std::string log = node.Log();
  for (const auto& w : words) EXPECT_NE(log.find(w), std::string::npos) << w << "\n" << log;
}

class OwnershipAsRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root, as in CI";
  }
};

TEST_F(OwnershipAsRoot, APgdataOfSomeoneElsesFilesKeepsItsOwnerAndModeAndIsRefused) {
  PgrtNode node;
  MakeStrangersDirectory(node.pgdata());
  ASSERT_NO_FATAL_FAILURE(
      ExpectRefusal(node, {"PGDATA", node.pgdata(), "no PostgreSQL cluster", "uid 4321"}));
  ExpectStrangersDirectoryUntouched(node.pgdata());
}

TEST_F(OwnershipAsRoot, APgdataLinkedToSomeoneElsesDirectoryLeavesTheTargetUntouched) {
  PgrtNode node;
  const std::string target = node.dir() + "/elsewhere";
  MakeStrangersDirectory(target);
  ASSERT_EQ(::symlink(target.c_str(), node.pgdata().c_str()), 0);
  ASSERT_NO_FATAL_FAILURE(ExpectRefusal(node, {"PGDATA", "symbolic link"}));
  ExpectStrangersDirectoryUntouched(target);
  struct stat st {};
  ASSERT_EQ(::lstat(node.pgdata().c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_uid, 0u);  // the link itself was not lchowned either
}

TEST_F(OwnershipAsRoot, AStickyWorldWritableSocketDirectoryIsUsedAsItIs) {
  PgrtNode node;
  const std::string sock = node.env().at("PGRT_SOCKET_DIR");
  std::filesystem::create_directories(sock);
  ASSERT_EQ(::chmod(sock.c_str(), 01777), 0);  // like /tmp: root's, sticky, open to all
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  Owner o = OwnerOf(sock);
  EXPECT_EQ(o.uid, 0u);
  EXPECT_EQ(o.gid, 0u);
  EXPECT_EQ(o.mode, 01777u) << "the sticky bit must survive";
  const std::string socket_file = sock + "/.s.PGSQL." + std::to_string(node.pg_port());
  EXPECT_TRUE(std::filesystem::exists(socket_file)) << socket_file;
  EXPECT_EQ(node.Query("SELECT 1"), "1");
}

TEST_F(OwnershipAsRoot, ADumpDirectoryOfSomeoneElsesFilesIsNotChowned) {
  PgrtNode node;
  const std::string dumps = node.dir() + "/dumps";
  MakeStrangersDirectory(dumps);
  node.env()["PGRT_DUMP_DIR"] = dumps;
  ASSERT_NO_FATAL_FAILURE(ExpectRefusal(node, {"PGRT_DUMP_DIR", dumps, "uid 4321"}));
  ExpectStrangersDirectoryUntouched(dumps);
}

TEST_F(OwnershipAsRoot, AWalDirectoryOfSomeoneElsesFilesIsNotChowned) {
  PgrtNode node;
  const std::string wal = node.dir() + "/wal";
  MakeStrangersDirectory(wal);
  node.env()["POSTGRES_INITDB_WALDIR"] = wal;
  ASSERT_NO_FATAL_FAILURE(ExpectRefusal(node, {"POSTGRES_INITDB_WALDIR", wal, "uid 4321"}));
  ExpectStrangersDirectoryUntouched(wal);
}

TEST_F(OwnershipAsRoot, AnEmptyVolumeOfRootsIsHandedToPostgresAndInitialized) {
  PgrtNode node;
  std::filesystem::create_directories(node.pgdata() + "/lost+found");  // a fresh file system
  ASSERT_EQ(::chmod(node.pgdata().c_str(), 0755), 0);
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  Owner o = OwnerOf(node.pgdata());
  EXPECT_NE(o.uid, 0u);
  EXPECT_EQ(o.mode, 0700u);
  EXPECT_EQ(OwnerOf(node.pgdata() + "/lost+found").uid, 0u) << "only the top directory";
}

}  // namespace
}  // namespace pgrt::testing
