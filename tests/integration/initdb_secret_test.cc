// A kill -9 of pgrt while initdb runs leaves no file holding the superuser's password: initdb
// reads it from a file without a name, which the kernel frees with its last descriptor.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kPassword[] = "initdb-secret-7f3a9c";

pid_t FindInitdb(pid_t pgrt) {
  for (pid_t pid : DescendantsOf(pgrt))
    // Its command line is readable a moment after its name is.
    if (ReadProcFile(pid, "comm") == "initdb\n" && !ReadProcFile(pid, "cmdline").empty())
      return pid;
  return 0;
}

std::string FdTarget(pid_t pid, int fd) {
  std::error_code ec;
  auto target = fs::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd), ec);
  return ec ? "" : target.string();
}

// Every regular file under `root` whose content holds `secret`.
std::vector<std::string> FilesHolding(const std::string& root, const std::string& secret) {
  std::vector<std::string> found;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && ReadFileOrEmpty(it->path()).find(secret) != std::string::npos)
      found.push_back(it->path());
  }
  return found;
}

TEST(InitdbSecret, AKillDuringInitdbLeavesNoFileWithTheSuperuserPassword) {
  PgrtNode node(Env{{"POSTGRES_PASSWORD", kPassword}});
  node.Start();
  pid_t initdb = 0;
  ASSERT_TRUE(WaitUntil([&] { return (initdb = FindInitdb(node.pid())) != 0; }, milliseconds(30000),
                        milliseconds(1)))
      << node.Log();
  // initdb's stdin is where it reads the password: a file with no name in pgrt's private
  // directory (whose path the link still shows).
  const std::string stdin_target = FdTarget(initdb, 0);
  const std::string cmdline = ReadProcFile(initdb, "cmdline");
  ASSERT_EQ(::kill(node.pid(), SIGKILL), 0);
  auto exited = node.WaitExit(milliseconds(10000));
  ASSERT_TRUE(exited.has_value());
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(initdb); }, milliseconds(10000)))
      << "initdb outlived pgrt";

  EXPECT_EQ(cmdline.find(kPassword), std::string::npos);
  EXPECT_NE(cmdline.find("--pwfile=/dev/stdin"), std::string::npos) << cmdline;
  ASSERT_FALSE(stdin_target.empty()) << "initdb exited before it could be inspected";
  EXPECT_NE(stdin_target.find("(deleted)"), std::string::npos) << stdin_target;
  const std::string private_dir = fs::path(stdin_target).parent_path().string();
  ASSERT_EQ(private_dir.rfind("/tmp/pgrt-init-", 0), 0u) << stdin_target;

  EXPECT_EQ(FilesHolding(private_dir, kPassword), std::vector<std::string>{});
  EXPECT_EQ(FilesHolding(node.dir(), kPassword), std::vector<std::string>{});
  std::error_code ec;
  fs::remove_all(private_dir, ec);  // what the killed pgrt left: its own private directory
}

}  // namespace
}  // namespace pgrt::testing
