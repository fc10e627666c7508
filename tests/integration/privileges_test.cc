// pgrt started as root runs every postgres process as the unprivileged `postgres` account.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/harness.h"

namespace pgrt::testing {

TEST(Privileges, AsRootEveryPostgresProcessRunsAsThePostgresAccount) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, as in CI";
  const passwd* pw = ::getpwnam("postgres");
  ASSERT_NE(pw, nullptr) << "no postgres account";
  const long uid = static_cast<long>(pw->pw_uid);

  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  auto client = PgConn::Connect(node.Conn());  // a client backend too
  ASSERT_TRUE(client.ok()) << client.status().message();

  const pid_t postmaster = node.PostmasterPid();
  ASSERT_GT(postmaster, 0);
  EXPECT_EQ(ProcessUid(postmaster), uid);
  // Every id on the Uid: line (real, effective, saved, fs).
  std::string status = ReadProcFile(postmaster, "status");
  std::string expected = "Uid:\t" + std::to_string(uid) + "\t" + std::to_string(uid) + "\t" +
                         std::to_string(uid) + "\t" + std::to_string(uid) + "\n";
  EXPECT_NE(status.find(expected), std::string::npos) << status;

  std::vector<pid_t> under = DescendantsOf(node.pid());
  EXPECT_GE(under.size(), 4u);
  for (pid_t pid : under) {
    long u = ProcessUid(pid);
    if (u < 0) continue;  // exited meanwhile
    EXPECT_EQ(u, uid) << "pid " << pid << " " << ReadProcFile(pid, "comm");
  }

  struct stat st {};
  ASSERT_EQ(::stat(node.pgdata().c_str(), &st), 0);
  EXPECT_EQ(static_cast<long>(st.st_uid), uid);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

}  // namespace pgrt::testing
