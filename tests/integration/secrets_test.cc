// Secrets: POSTGRES_PASSWORD_FILE, and a password that never leaks into children's command
// lines or environments, the log, the API or `pgrt config`.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <set>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

using std::chrono::milliseconds;

constexpr const char* kPassword = "S3cr3t-Pa55-Zq9";

// Processes under `root` whose command line or environment holds `secret`, as
// "pid: cmdline" lines; each pid is recorded in `seen`.
// A fork of pgrt that has not exec'd yet is pgrt itself (its memory and environment are
// pgrt's until execve replaces them), not a child: skipped.
std::string LeakingDescendants(pid_t root, const std::string& secret, std::set<pid_t>& seen) {
  static const std::string pgrt = std::filesystem::canonical(PgrtBinary()).string();
  std::string leaks;
  for (pid_t pid : DescendantsOf(root)) {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
    if (!ec && exe.string() == pgrt) continue;
    std::string cmdline = ReadProcFile(pid, "cmdline");
    std::string environ = ReadProcFile(pid, "environ");
    if (cmdline.empty() && environ.empty()) continue;  // gone in between
    seen.insert(pid);
    if (cmdline.find(secret) != std::string::npos || environ.find(secret) != std::string::npos) {
      for (char& c : cmdline) c = c == '\0' ? ' ' : c;
      leaks += std::to_string(pid) + ": " + cmdline + "\n";
    }
  }
  return leaks;
}

}  // namespace

TEST(Secrets, PasswordFileWithTrailingNewlineIsThePassword) {
  PgrtNode node;
  const std::string file = node.dir() + "/password";
  WriteFileOrDie(file, std::string(kPassword) + "\n", 0600);
  node.env().erase("POSTGRES_PASSWORD");
  node.env()["POSTGRES_PASSWORD_FILE"] = file;

  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  ConnParams exact = node.Conn();
  exact["password"] = kPassword;
  auto conn = PgConn::Connect(exact);
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  ConnParams with_newline = exact;
  with_newline["password"] = std::string(kPassword) + "\n";
  EXPECT_FALSE(PgConn::Connect(with_newline).ok());
}

TEST(Secrets, PasswordAndPasswordFileTogetherAreRejectedWithExit2) {
  PgrtNode node;
  const std::string file = node.dir() + "/password";
  WriteFileOrDie(file, "other\n", 0600);
  Env env = node.env();
  env["POSTGRES_PASSWORD_FILE"] = file;
  auto run = RunPgrt({"run"}, env);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("POSTGRES_PASSWORD_FILE"), std::string::npos) << run.output;
  EXPECT_FALSE(std::filesystem::exists(node.pgdata()));
}

TEST(Secrets, AnUnreadablePasswordFileIsRejectedWithExit2NamingTheVariable) {
  PgrtNode node;
  for (const std::string& path : {node.dir() + "/missing", node.dir()}) {
    Env env = node.env();
    env.erase("POSTGRES_PASSWORD");
    env["POSTGRES_PASSWORD_FILE"] = path;
    auto run = RunPgrt({"run"}, env);
    EXPECT_EQ(run.exit_code, 2) << path << "\n" << run.output;
    EXPECT_NE(run.output.find("POSTGRES_PASSWORD_FILE"), std::string::npos) << run.output;
    EXPECT_FALSE(std::filesystem::exists(node.pgdata()));
  }
}

TEST(Secrets, PasswordAppearsInNoChildProcessLogApiAnswerOrConfigOutput) {
  PgrtNode node(Env{{"POSTGRES_PASSWORD", kPassword}});
  // A script keeps the initialization busy for a moment, so the sampling below sees the
  // temporary server and the script's own processes too.
  std::filesystem::create_directory(node.dir() + "/initdb.d");
  WriteFileOrDie(node.dir() + "/initdb.d/10-wait.sh", "#!/bin/sh\nsleep 0.3\n", 0755);

  node.Start();
  std::set<pid_t> seen;
  std::string leaks;
  // Sample every process under pgrt through the whole start-up: initdb, the temporary
  // server, init scripts, the postmaster and its children.
  bool healthy = WaitUntil(
      [&] {
        leaks += LeakingDescendants(node.pid(), kPassword, seen);
        return !node.running() || node.Get("/__opr/health").status == 200;
      },
      milliseconds(30000), milliseconds(1));
  ASSERT_TRUE(healthy && node.running()) << node.Log();
  // Client backends exist only while someone is connected: hold one open.
  auto client = PgConn::Connect(node.Conn());
  ASSERT_TRUE(client.ok()) << client.status().message();
  leaks += LeakingDescendants(node.pid(), kPassword, seen);
  EXPECT_EQ(leaks, "");
  EXPECT_GE(seen.size(), 8u) << "expected initdb, servers, scripts and postgres helpers";

  for (const char* path : {"/__opr/status", "/__opr/timings", "/__opr/health", "/__opr/replication",
                           "/health", "/liveness", "/readiness", "/metrics"}) {
    auto res = node.Get(path);
    EXPECT_NE(res.status, 0) << path;
    EXPECT_EQ(res.body.find(kPassword), std::string::npos) << path << ": " << res.body;
  }

  auto config = RunPgrt({"config"}, node.env());
  EXPECT_EQ(config.exit_code, 0) << config.output;
  EXPECT_EQ(config.output.find(kPassword), std::string::npos) << config.output;
  EXPECT_NE(config.output.find("POSTGRES_PASSWORD=********"), std::string::npos) << config.output;

  ASSERT_EQ(ExitCode(node.Stop(SIGTERM)), 0);
  std::string log = node.Log();
  EXPECT_EQ(log.find(kPassword), std::string::npos) << log;
}

}  // namespace pgrt::testing
