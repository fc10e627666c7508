// AsyncPgConn against servers that misbehave without being postgres: one that never
// answers (the deadline must hold while the loop keeps running) and none at all. Real
// postgres round trips are in tests/integration/async_pg_test.cc.
#include "pg/async_conn.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "process_test_util.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

// A TCP socket on 127.0.0.1 that listens but never accepts: the kernel completes the
// handshake, then nothing is ever said — a server that is stopped (SIGSTOP), as libpq sees it.
struct SilentServer {
  UniqueFd fd;
  int port = 0;
  SilentServer() {
    fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd.get(), 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
};

// A port that was free a moment ago: nothing listens there.
int ClosedPort() {
  SilentServer s;
  return s.port;  // closed when `s` goes
}

ConnParams Params(int port) {
  return {{"host", "127.0.0.1"}, {"port", std::to_string(port)}, {"user", "nobody"},
          {"dbname", "nobody"},  {"sslmode", "disable"},         {"connect_timeout", "60"}};
}

class AsyncConnTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.Init().ok()); }
  RealClock clock_;
  EventLoop loop_{clock_};
};

TEST_F(AsyncConnTest, AServerThatNeverAnswersFailsWithDeadlineExceededWhileTheLoopRuns) {
  SilentServer server;
  AsyncPgConn conn(loop_, Params(server.port));
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    loop_.AddTimer(Millis(10), tick);
  };
  tick();
  std::optional<Status> got;
  const SteadyTime start = clock_.Now();
  conn.Query("SELECT 1", Millis(200), [&](Result<AsyncPgConn::Results> r) {
    got = r.status();
    loop_.Quit();
  });
  ASSERT_TRUE(process_test::RunLoopAtMost(loop_, Millis(5000)));
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->IsDeadlineExceeded()) << got->message();
  EXPECT_GE(clock_.Now() - start, Millis(200));
  EXPECT_LT(clock_.Now() - start, Millis(2000));
  // The loop kept running its timers while the connection waited.
  EXPECT_GE(ticks, 10);
}

TEST_F(AsyncConnTest, NothingListeningFailsWithUnavailable) {
  AsyncPgConn conn(loop_, Params(ClosedPort()));
  std::optional<Status> got;
  conn.Query("SELECT 1", Millis(2000), [&](Result<AsyncPgConn::Results> r) {
    got = r.status();
    loop_.Quit();
  });
  ASSERT_TRUE(process_test::RunLoopAtMost(loop_, Millis(5000)));
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->IsUnavailable()) << got->message();
}

TEST_F(AsyncConnTest, QueuedRequestsEachGetTheirOwnAnswerInOrder) {
  SilentServer server;
  AsyncPgConn conn(loop_, Params(server.port));
  std::vector<int> order;
  for (int i = 0; i < 3; ++i)
    conn.Query("SELECT 1", Millis(100 * (i + 1)), [&, i](Result<AsyncPgConn::Results> r) {
      EXPECT_TRUE(r.status().IsDeadlineExceeded()) << r.status().message();
      order.push_back(i);
      if (order.size() == 3) loop_.Quit();
    });
  ASSERT_TRUE(process_test::RunLoopAtMost(loop_, Millis(5000)));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

TEST_F(AsyncConnTest, ACallbackMayDestroyItsConnection) {
  auto conn = std::make_unique<AsyncPgConn>(loop_, Params(ClosedPort()));
  bool called = false;
  conn->Query("SELECT 1", Millis(1000), [&](Result<AsyncPgConn::Results>) {
    called = true;
    conn.reset();
    loop_.AddTimer(Millis(20), [&] { loop_.Quit(); });
  });
  ASSERT_TRUE(process_test::RunLoopAtMost(loop_, Millis(5000)));
  EXPECT_TRUE(called);
  EXPECT_EQ(conn, nullptr);
}

TEST_F(AsyncConnTest, DestroyingAConnectionDropsItsQueuedCallbacks) {
  SilentServer server;
  int called = 0;
  {
    AsyncPgConn conn(loop_, Params(server.port));
    conn.Query("SELECT 1", Millis(50), [&](Result<AsyncPgConn::Results>) { ++called; });
  }
  loop_.AddTimer(Millis(150), [&] { loop_.Quit(); });
  ASSERT_TRUE(process_test::RunLoopAtMost(loop_, Millis(5000)));
  EXPECT_EQ(called, 0);
}

}  // namespace
}  // namespace pgrt
