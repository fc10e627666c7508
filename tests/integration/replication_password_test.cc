// A replica whose POSTGRES_REPLICATION_PASSWORD the primary refuses says so, as a warning in
// its log and as the `message` of /__opr/status, naming the variable, and keeps trying;
// neither carries the password.
#include <gtest/gtest.h>

#include "integration/replication_helpers.h"

namespace pgrt::testing::repl {
namespace {

constexpr char kWrongPassword[] = "not-the-replication-pw";

std::string StatusMessage(const PgrtNode& node) {
  return Str(GetJson(node.api_port(), "/__opr/status").value_or(json()), "message");
}

bool WaitForStatusMessage(const PgrtNode& node, const std::string& words) {
  return WaitUntil([&] { return StatusMessage(node).find(words) != std::string::npos; },
                   milliseconds(30000), milliseconds(100));
}

void ExpectWarningLogged(const std::string& log) {
  size_t at = log.find("POSTGRES_REPLICATION_PASSWORD");
  ASSERT_NE(at, std::string::npos) << log;
  size_t line = log.rfind('\n', at);
  std::string text = log.substr(line == std::string::npos ? 0 : line + 1, at - line);
  EXPECT_NE(text.find("warning:"), std::string::npos) << text;
  EXPECT_NE(log.find("password authentication failed"), std::string::npos) << log;
}

TEST(ReplicationPassword, AWrongOneAtTheFirstCloneIsAWarningAndTheStatusMessage) {
  auto primary = NewPrimary();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  auto replica =
      NewReplica(*primary, "wrong_pw_slot", {{"POSTGRES_REPLICATION_PASSWORD", kWrongPassword}});
  replica->Start();
  ASSERT_TRUE(WaitForStatusMessage(*replica, "POSTGRES_REPLICATION_PASSWORD"))
      << StatusMessage(*replica) << "\n"
      << replica->Log();
  const std::string message = StatusMessage(*replica);
  EXPECT_NE(message.find("refuses the replication login"), std::string::npos) << message;
  EXPECT_EQ(message.find(kWrongPassword), std::string::npos) << message;
  EXPECT_TRUE(replica->running()) << "it keeps trying: the primary may still create the role";
  const std::string log = replica->Log();
  ASSERT_NO_FATAL_FAILURE(ExpectWarningLogged(log));
  EXPECT_EQ(log.find(kWrongPassword), std::string::npos);
}

TEST(ReplicationPassword, AWrongOneAfterARestartIsAWarningAndTheStatusMessageOfTheStandby) {
  auto primary = NewPrimary();
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary));
  auto replica = NewReplica(*primary, "restart_pw_slot");
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  ASSERT_TRUE(WaitStreaming(*primary, *replica)) << replica->Log();
  ASSERT_EQ(ExitCode(replica->Stop()), 0) << replica->Log();

  replica->env()["POSTGRES_REPLICATION_PASSWORD"] = kWrongPassword;
  const size_t mark = replica->LogSize();
  // A standby serves reads from its own data while it cannot stream.
  ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica));
  ASSERT_TRUE(WaitForStatusMessage(*replica, "POSTGRES_REPLICATION_PASSWORD"))
      << StatusMessage(*replica) << "\n"
      << replica->LogSince(mark);
  EXPECT_EQ(StatusMessage(*replica).find(kWrongPassword), std::string::npos);
  const std::string log = replica->LogSince(mark);
  ASSERT_NO_FATAL_FAILURE(ExpectWarningLogged(log));
  EXPECT_EQ(log.find(kWrongPassword), std::string::npos);
}

}  // namespace
}  // namespace pgrt::testing::repl
