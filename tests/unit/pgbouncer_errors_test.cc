// pgbouncer_errors_count: which of PgBouncer's log lines are errors, what their label is, and
// how the label set stays bounded; and the pipe that carries PgBouncer's log through pgrt.
// The lines are as PgBouncer 1.18 (Debian bookworm) printed them to stderr with pgrt's
// settings (log_connections and log_disconnections off) unless a test says otherwise.
#include "pooler/pgbouncer_errors.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "metrics/pgbouncer_metrics.h"
#include "pooler/pgbouncer_log.h"
#include "process/event_loop.h"
#include "process_test_util.h"
#include "util/clock.h"

namespace pgrt {
namespace {

constexpr char kMaxClientConn[] =
    "2026-11-28 19:57:18.645 UTC [14897] WARNING C-0x55eb9007c890: (nodb)/(nouser)@127.0.0.1:51546"
    " pooler error: no more connections allowed (max_client_conn)";
constexpr char kServerCrashed[] =
    "2026-11-28 19:57:22.586 UTC [14897] WARNING C-0x55eb9007c3d0: "
    "postgres/postgres@127.0.0.1:43196"
    " pooler error: server conn crashed?";

TEST(PgbouncerErrors, APoolerErrorLineGivesItsMessageWithoutTheConnectionPrefix) {
  EXPECT_EQ(PgbouncerErrorMessage(kMaxClientConn), "no more connections allowed (max_client_conn)");
  EXPECT_EQ(PgbouncerErrorMessage(kServerCrashed), "server conn crashed?");
  EXPECT_EQ(PgbouncerErrorMessage("2026-11-28 19:57:45.072 UTC [14897] WARNING C-0x55eb9007c3d0: "
                                  "nosuchdb/postgres@127.0.0.1:53616 pooler error: database "
                                  "\"nosuchdb\" does not exist"),
            "database \"nosuchdb\" does not exist");
  EXPECT_EQ(PgbouncerErrorMessage("2026-11-28 19:57:27.181 UTC [14897] WARNING C-0x55eb9007c3d0: "
                                  "(nodb)/nouser@127.0.0.1:43236 pooler error: \"trust\" "
                                  "authentication failed"),
            "\"trust\" authentication failed");
  // Over the Unix socket, with and without the peer's pid; over IPv6.
  EXPECT_EQ(PgbouncerErrorMessage("2026-11-28 19:57:27.325 UTC [14897] WARNING C-0x55eb9007c3d0: "
                                  "pgbouncer/postgres@unix(4242):6432 pooler error: not allowed"),
            "not allowed");
  EXPECT_EQ(PgbouncerErrorMessage("2026-11-28 19:57:27.325 UTC [1] WARNING C-0x1: "
                                  "app/app@unix:6432 pooler error: query_wait_timeout\r"),
            "query_wait_timeout");
  EXPECT_EQ(PgbouncerErrorMessage("2026-11-28 19:57:27.325 UTC [1] WARNING C-0x1: "
                                  "app/app@[::1]:40100 pooler error: client_login_timeout (server "
                                  "down)"),
            "client_login_timeout (server down)");
}

TEST(PgbouncerErrors, ConnectionAgesAreNotPartOfTheMessage) {
  EXPECT_EQ(PgbouncerErrorMessage("2026-11-28 19:57:47.459 UTC [14897] WARNING C-0x55eb9007c3d0: "
                                  "postgres/postgres@127.0.0.1:53648 pooler error: server conn "
                                  "crashed? (age=20s)"),
            "server conn crashed?");
  // Not an age: kept.
  EXPECT_EQ(PgbouncerErrorMessage("2026-11-28 19:57:47.459 UTC [1] WARNING C-0x1: a/b@unix:6432 "
                                  "pooler error: odd (age=soon)"),
            "odd (age=soon)");
}

TEST(PgbouncerErrors, OtherLinesAreNotErrors) {
  for (const char* line :
       {"2026-11-28 19:57:11.229 UTC [14897] LOG kernel file descriptor limit: 1024 (hard: "
        "20000); max_client_conn: 2, max expected fd use: 14",
        "2026-11-28 19:57:11.231 UTC [14897] LOG process up: PgBouncer 1.18.0, libevent "
        "2.1.12-stable (epoll), adns: c-ares 1.18.1, tls: OpenSSL 3.0.19 27 Jan 2026",
        "2026-11-28 19:57:18.570 UTC [14897] LOG C-0x55eb9007c3d0: (nodb)/(nouser)@127.0.0.1:51530"
        " registered new auto-database: db=postgres",
        // The server's own refusal: the same error reaches each waiting client as a pooler
        // error, counted there once per client.
        "2026-11-28 19:57:45.072 UTC [14897] WARNING server login failed: FATAL database "
        "\"nosuchdb\" does not exist",
        "2026-11-28 19:57:45.256 UTC [14897] WARNING C-0x55eb9007c3d0: "
        "(nodb)/(nouser)@127.0.0.1:53630 unsupported startup parameter: options=-c foo=bar",
        // log_disconnections (off under pgrt): closes, routine ones included.
        "2026-11-28 19:57:47.459 UTC [14897] LOG S-0x55eb90083ab0: postgres/postgres@unix:55731 "
        "closing because: server conn crashed? (age=20s)",
        "2026-11-28 19:57:48.358 UTC [14897] WARNING S-0x55eb90083ab0: "
        "postgres/postgres@unix:55731 got packet 'E' from server when not linked",
        "", "pooler error: no address before it",
        "2026-11-28 19:57:18.645 UTC [1] WARNING C-0x1: (nodb)/(nouser)@somewhere:51546 pooler "
        "error: not an address"}) {
    EXPECT_EQ(PgbouncerErrorMessage(line), std::nullopt) << line;
  }
}

TEST(PgbouncerErrors, ANameThatSpellsASecondPrefixCannotChooseTheLabel) {
  // A user name ending in "@<address> pooler error: <message>", then the real message.
  EXPECT_EQ(PgbouncerErrorMessage(
                "2026-11-28 19:57:27.181 UTC [1] WARNING C-0x1: (nodb)/x@127.0.0.1:1 pooler "
                "error: no more connections allowed (max_client_conn)@127.0.0.1:43236 pooler "
                "error: password authentication failed"),
            kPgbouncerOtherError);
  // A startup parameter name after the real prefix.
  EXPECT_EQ(PgbouncerErrorMessage(
                "2026-11-28 19:57:45.256 UTC [1] WARNING C-0x1: (nodb)/(nouser)@127.0.0.1:53630 "
                "pooler error: unsupported startup parameter: x@1.2.3.4:5 pooler error: no more "
                "connections allowed (max_client_conn)"),
            kPgbouncerOtherError);
}

TEST(PgbouncerErrors, MessagesAreCutAndMadePrintableUtf8) {
  const std::string prefix =
      "2026-11-28 19:57:45.072 UTC [1] WARNING C-0x1: a/b@unix:6432 pooler error: ";
  EXPECT_EQ(PgbouncerErrorMessage(prefix + "database \"caf\xc3\xa9\" does not exist"),
            "database \"caf\xc3\xa9\" does not exist");
  EXPECT_EQ(PgbouncerErrorMessage(prefix + "bad \xff\xc3 byte\x01\x7f"), "bad ?? byte??");
  auto cut = PgbouncerErrorMessage(prefix + std::string(500, 'x'));
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->size(), PgbouncerErrorCounts::kMaxMessageBytes);
  // Not in the middle of a character.
  std::string accents;
  for (int i = 0; i < 150; ++i) accents += "\xc3\xa9";
  auto wide = PgbouncerErrorMessage(prefix + "x" + accents);
  ASSERT_TRUE(wide);
  EXPECT_EQ(wide->size(), PgbouncerErrorCounts::kMaxMessageBytes - 1);
}

TEST(PgbouncerErrors, TheStockRulesMessagesAreThereAtZeroBeforeAnyError) {
  PgbouncerErrorCounts counts;
  EXPECT_EQ(counts.counts(),
            (std::map<std::string, uint64_t>{{"no more connections allowed (max_client_conn)", 0},
                                             {"server conn crashed?", 0}}));
  MetricsPage page;
  AddPgbouncerErrorMetrics(counts.counts(), page);
  EXPECT_NE(page.Render().find("pgbouncer_errors_count{errmsg=\"server conn crashed?\"} 0\n"),
            std::string::npos)
      << page.Render();
}

TEST(PgbouncerErrors, EachErrorLineCountsOnceUnderItsMessage) {
  PgbouncerErrorCounts counts;
  counts.CountLine(kMaxClientConn);
  counts.CountLine(kMaxClientConn);
  counts.CountLine(kServerCrashed);
  counts.CountLine("2026-11-28 19:57:11.231 UTC [14897] LOG listening on 127.0.0.1:55732");
  EXPECT_EQ(counts.counts().at("no more connections allowed (max_client_conn)"), 2u);
  EXPECT_EQ(counts.counts().at("server conn crashed?"), 1u);
  EXPECT_EQ(counts.counts().size(), 2u);
}

TEST(PgbouncerErrors, DistinctMessagesPastTheCapFoldIntoOther) {
  PgbouncerErrorCounts counts;
  for (int i = 0; i < 1000; ++i)
    counts.CountLine(
        "2026-11-28 19:57:45.072 UTC [1] WARNING C-0x1: a/b@127.0.0.1:5 pooler error: "
        "database \"db" +
        std::to_string(i) + "\" does not exist");
  EXPECT_EQ(counts.counts().size(), PgbouncerErrorCounts::kMaxMessages + 1);
  const uint64_t named = PgbouncerErrorCounts::kMaxMessages - 2;  // the stock two are seeded
  EXPECT_EQ(counts.counts().at(kPgbouncerOtherError), 1000 - named);
  // A message already counted keeps its own series; the stock ones always have theirs.
  counts.CountLine(
      "2026-11-28 19:57:45.072 UTC [1] WARNING C-0x1: a/b@127.0.0.1:5 pooler error: "
      "database \"db0\" does not exist");
  EXPECT_EQ(counts.counts().at("database \"db0\" does not exist"), 2u);
  counts.CountLine(kMaxClientConn);
  EXPECT_EQ(counts.counts().at("no more connections allowed (max_client_conn)"), 1u);
}

// The pipe: lines written by a child-like writer reach both the counter and the forward fd.
class PgbouncerLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(loop_.Init().ok());
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    forwarded_read_.reset(fds[0]);
    forwarded_write_.reset(fds[1]);
  }
  std::string Forwarded() {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(forwarded_read_.get(), buf, sizeof buf)) > 0;) out.append(buf, n);
    return out;
  }
  // Runs the loop until `lines` has `n` entries (or 2 s).
  void RunUntil(size_t n) {
    EventLoop::TimerId poll = 0;
    std::function<void()> check = [&] {
      if (lines_.size() >= n) return loop_.Quit();
      poll = loop_.AddTimer(Millis(5), check);
    };
    poll = loop_.AddTimer(Millis(0), check);
    process_test::RunLoopAtMost(loop_, Millis(2000));
    loop_.CancelTimer(poll);
  }

  RealClock clock_;
  EventLoop loop_{clock_};
  UniqueFd forwarded_read_, forwarded_write_;
  std::vector<std::string> lines_;
};

TEST_F(PgbouncerLogTest, LinesReachTheCounterWholeAndGoOnUnchanged) {
  auto log = PgbouncerLog::Open(loop_, forwarded_write_.get(),
                                [&](std::string_view l) { lines_.emplace_back(l); });
  ASSERT_TRUE(log.ok()) << log.status().message();
  const int w = (*log)->write_fd();
  EXPECT_NE(::fcntl(w, F_GETFD) & FD_CLOEXEC, 0);  // no other child inherits it
  const std::string text = std::string(kMaxClientConn) + "\n" + kServerCrashed + "\n";
  // In two writes that split a line: the counter still sees whole lines.
  ASSERT_EQ(::write(w, text.data(), 40), 40);
  RunUntil(0);
  ASSERT_EQ(::write(w, text.data() + 40, text.size() - 40), static_cast<ssize_t>(text.size() - 40));
  RunUntil(2);
  EXPECT_EQ(lines_, (std::vector<std::string>{kMaxClientConn, kServerCrashed}));
  EXPECT_EQ(Forwarded(), text);
}

TEST_F(PgbouncerLogTest, AnEndlessLineIsPassedOnButNotCounted) {
  auto log = PgbouncerLog::Open(loop_, forwarded_write_.get(),
                                [&](std::string_view l) { lines_.emplace_back(l); });
  ASSERT_TRUE(log.ok());
  const std::string huge(PgbouncerLog::kMaxLineBytes + 100, 'x');
  const std::string text = huge + " pooler error: no\nafter\n";
  ASSERT_EQ(::write((*log)->write_fd(), text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  RunUntil(1);
  EXPECT_EQ(lines_, (std::vector<std::string>{"after"}));
  EXPECT_EQ(Forwarded(), text);
}

}  // namespace
}  // namespace pgrt
