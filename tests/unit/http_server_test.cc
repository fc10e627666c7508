// HttpServer against real loopback sockets: the server runs on an EventLoop on its own
// thread, the test is the client. Limits are small so timeouts take milliseconds.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "http/server.h"
#include "process/event_loop.h"
#include "util/clock.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Answers GET /x with "GET /x q=<query>"; /echo with the body; /later after 50 ms from a
// timer; /hold keeps the Responder for the test. Screen refuses /screened with 401.
class TestHandler : public HttpHandler {
 public:
  explicit TestHandler(EventLoop& loop) : loop_(loop) {}

  std::optional<HttpResponse> Screen(const HttpRequest& head) override {
    if (head.path == "/screened") return HttpResponse::Text(401, "screened");
    return std::nullopt;
  }
  void Handle(const HttpRequest& req, Responder respond) override {
    ++handled;
    if (req.path == "/echo") return respond(HttpResponse::Text(200, req.body));
    if (req.path == "/later") {
      loop_.AddTimer(Millis(50), [respond] { respond(HttpResponse::Text(200, "later")); });
      return;
    }
    if (req.path == "/hold") {
      held.push_back(std::move(respond));
      return;
    }
    respond(HttpResponse::Text(200, req.method + " " + req.path + " q=" + req.query));
  }

  std::atomic<int> handled{0};
  std::vector<Responder> held;  // loop thread only

 private:
  EventLoop& loop_;
};

HttpLimits FastLimits() {
  HttpLimits l;
  l.max_header_bytes = 1024;
  l.max_body_bytes = 4096;
  l.header_timeout = Millis(200);
  l.body_timeout = Millis(200);
  l.idle_timeout = Millis(5000);
  l.max_connections = 64;
  return l;
}

struct Response {
  int status = 0;  // 0: none (closed or timed out)
  std::string head;
  std::string body;
};

// A blocking loopback client with a receive timeout, so no test can hang.
class Client {
 public:
  explicit Client(int port) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval tv{2, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  bool connected() const { return connected_; }

  bool Send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_.get(), data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // One response; `head_only` for answers to HEAD (Content-Length without a body).
  Response Read(bool head_only = false) {
    Response r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill()) return r;
    r.head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    if (r.head.size() < 12) return r;
    r.status = std::stoi(r.head.substr(9, 3));
    size_t length = 0;
    auto at = r.head.find("Content-Length: ");
    if (at != std::string::npos) length = std::stoul(r.head.substr(at + 16));
    if (head_only) length = 0;
    while (buf_.size() < length)
      if (!Fill()) return Response{};
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  // True when the server closed the connection (EOF or reset) within the receive timeout.
  bool Closed() {
    char c;
    for (;;) {
      ssize_t n = ::recv(fd_.get(), &c, 1, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      buf_.push_back(c);  // unread answer bytes: keep reading
    }
  }

  // Closes with a reset (SO_LINGER 0), as a crashed client would.
  void Reset() {
    linger l{1, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    fd_.reset();
  }

 private:
  bool Fill() {
    char tmp[4096];
    ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  UniqueFd fd_;
  bool connected_ = false;
  std::string buf_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpLimits limits = FastLimits()) {
    ASSERT_TRUE(loop_.Init().ok());
    server_ = std::make_unique<HttpServer>(loop_, limits, handler_);
    Status st = server_->Listen("127.0.0.1", 0);
    ASSERT_TRUE(st.ok()) << st.message();
    port_ = server_->port();
    thread_ = std::thread([this] { EXPECT_TRUE(loop_.Run().ok()); });
  }
  void TearDown() override {
    if (!thread_.joinable()) return;
    loop_.Post([this] {
      server_->Close();
      loop_.Quit();
    });
    thread_.join();
  }
  // Runs `f` on the loop thread and returns its result.
  template <typename F>
  auto OnLoop(F f) {
    std::promise<decltype(f())> p;
    auto fut = p.get_future();
    loop_.Post([&] { p.set_value(f()); });
    EXPECT_EQ(fut.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    return fut.get();
  }
  HttpServer::Stats Stats() {
    return OnLoop([this] { return server_->stats(); });
  }
  // Until `pred(stats)` holds, for at most two seconds.
  template <typename P>
  bool WaitStats(P pred) {
    auto deadline = steady_clock::now() + milliseconds(2000);
    while (steady_clock::now() < deadline) {
      if (pred(Stats())) return true;
      std::this_thread::sleep_for(milliseconds(2));
    }
    return false;
  }
  std::string Get(const std::string& path, const std::string& extra = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
  }

  RealClock clock_;
  EventLoop loop_{clock_};
  TestHandler handler_{loop_};
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send(Get("/n" + std::to_string(i) + "?a=b")));
    Response r = c.Read();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "GET /n" + std::to_string(i) + " q=a=b");
  }
  EXPECT_EQ(Stats().accepted, 1u);
}

TEST_F(HttpServerTest, PipelinedRequestsInOneWriteAreAnsweredInOrder) {
  Start();
  Client c(port_);
  // The first answer comes later from a timer: the two after it must wait for it.
  ASSERT_TRUE(c.Send(Get("/later") + Get("/second") + Get("/third")));
  EXPECT_EQ(c.Read().body, "later");
  EXPECT_EQ(c.Read().body, "GET /second q=");
  EXPECT_EQ(c.Read().body, "GET /third q=");
}

TEST_F(HttpServerTest, HeadIsAnsweredWithoutABodyAndConnectionCloseIsHonoured) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n"));
  Response head = c.Read(/*head_only=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_NE(head.head.find("Content-Length: 10"), std::string::npos) << head.head;
  ASSERT_TRUE(c.Send(Get("/y", "Connection: close\r\n")));
  Response last = c.Read();
  EXPECT_EQ(last.body, "GET /y q=");  // not "HEAD /x…": HEAD sent no body bytes
  EXPECT_NE(last.head.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(c.Closed());
}

TEST_F(HttpServerTest, Http10ClosesAfterOneAnswerAndPostWithoutLengthHasAnEmptyBody) {
  Start();
  Client old(port_);
  ASSERT_TRUE(old.Send("GET /old HTTP/1.0\r\n\r\n"));
  Response r = old.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.head.rfind("HTTP/1.0 200", 0), 0u) << r.head;
  EXPECT_TRUE(old.Closed());

  Client post(port_);
  ASSERT_TRUE(post.Send("POST /echo HTTP/1.1\r\nHost: t\r\n\r\n" + Get("/after")));
  Response empty = post.Read();
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "");
  EXPECT_EQ(post.Read().body, "GET /after q=");
}

TEST_F(HttpServerTest, ContentLengthAndChunkedBodiesWithinTheLimitReachTheHandler) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"));
  EXPECT_EQ(c.Read().body, "hello");
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  EXPECT_EQ(c.Read().body, "abcde");
}

TEST_F(HttpServerTest, HeaderOverTheLimitIs431AndTheConnectionCloses) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n"));
  EXPECT_EQ(c.Read().status, 431);
  EXPECT_TRUE(c.Closed());

  Client lines(port_);  // many small header lines count too
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 400; ++i) many += "a: b\r\n";
  lines.Send(many + "\r\n");  // may fail half-way once the server closed: the answer counts
  EXPECT_EQ(lines.Read().status, 431);
}

TEST_F(HttpServerTest, ContentLengthOverTheLimitIs413BeforeAnyBodyByteIsSent) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n"));
  EXPECT_EQ(c.Read().status, 413);
  EXPECT_TRUE(c.Closed());
  EXPECT_EQ(handler_.handled, 0);
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413WithoutReadingItAll) {
  Start();
  Client big(port_);  // one chunk announced larger than the limit: refused before its bytes
  ASSERT_TRUE(
      big.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
               "10000000\r\n"));
  EXPECT_EQ(big.Read().status, 413);

  Client small(port_);  // small chunks that add up past the limit
  std::string req = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) req += "400\r\n" + std::string(1024, 'x') + "\r\n";
  small.Send(req);
  EXPECT_EQ(small.Read().status, 413);
  EXPECT_TRUE(small.Closed());
  EXPECT_EQ(handler_.handled, 0);
}

TEST_F(HttpServerTest, ScreenRejectionIsSentBeforeTheBodyAndTheHandlerNeverRuns) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send("POST /screened HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n"));
  Response r = c.Read();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "screened");
  EXPECT_TRUE(c.Closed());

  Client get(port_);  // without a body the connection stays usable
  ASSERT_TRUE(get.Send(Get("/screened") + Get("/fine")));
  EXPECT_EQ(get.Read().status, 401);
  EXPECT_EQ(get.Read().body, "GET /fine q=");
  EXPECT_EQ(handler_.handled, 1);
}

TEST_F(HttpServerTest, MalformedRequestsAre400AndClose) {
  Start();
  for (const char* bad : {"NOT HTTP AT ALL\r\n\r\n", "GET / HTTP/1.1\r\nno colon here\r\n\r\n",
                          "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"}) {
    Client c(port_);
    ASSERT_TRUE(c.Send(bad));
    EXPECT_EQ(c.Read().status, 400) << bad;
    EXPECT_TRUE(c.Closed()) << bad;
  }
  EXPECT_EQ(Stats().rejected, 3u);
}

TEST_F(HttpServerTest, IncompleteHeadersAre408AfterTheHeaderTimeout) {
  Start();
  Client c(port_);
  auto t0 = steady_clock::now();
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: t\r\n"));
  // A byte now and then does not extend the deadline: it runs from the first byte.
  std::this_thread::sleep_for(milliseconds(80));
  c.Send("X");
  std::this_thread::sleep_for(milliseconds(80));
  c.Send("-");
  EXPECT_EQ(c.Read().status, 408);
  EXPECT_TRUE(c.Closed());
  auto took = steady_clock::now() - t0;
  EXPECT_GE(took, milliseconds(190));
  EXPECT_LT(took, milliseconds(1000));
}

TEST_F(HttpServerTest, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  HttpLimits l = FastLimits();
  l.idle_timeout = Millis(100);
  Start(l);
  Client c(port_);
  ASSERT_TRUE(c.Send(Get("/x")));
  EXPECT_EQ(c.Read().status, 200);
  auto t0 = steady_clock::now();
  EXPECT_TRUE(c.Closed());
  EXPECT_LT(steady_clock::now() - t0, milliseconds(1000));
}

TEST_F(HttpServerTest, AtTheCapTheOldestIdleConnectionIsClosedFirst) {
  HttpLimits l = FastLimits();
  l.max_connections = 3;
  l.header_timeout = Millis(5000);
  Start(l);
  // One round trip each, in order: a, b, c become idle in that order; then b again.
  Client a(port_), b(port_), c(port_);
  for (Client* x : {&a, &b, &c, &b}) {
    ASSERT_TRUE(x->Send(Get("/x")));
    ASSERT_EQ(x->Read().status, 200);
  }
  Client d(port_);  // evicts a, the oldest idle
  ASSERT_TRUE(d.Send(Get("/d")));
  EXPECT_EQ(d.Read().status, 200);
  EXPECT_TRUE(a.Closed());
  ASSERT_TRUE(c.Send("GET /busy HTTP/1.1\r\n"));  // c is no longer idle
  ASSERT_TRUE(WaitStats([](const HttpServer::Stats& s) { return s.idle == 2; }));
  Client e(port_);  // evicts b: c is busy, b went idle before d
  ASSERT_TRUE(e.Send(Get("/e")));
  EXPECT_EQ(e.Read().status, 200);
  EXPECT_TRUE(b.Closed());
  ASSERT_TRUE(c.Send("Host: t\r\n\r\n"));
  EXPECT_EQ(c.Read().body, "GET /busy q=");
  EXPECT_EQ(Stats().evicted, 2u);
}

TEST_F(HttpServerTest, AtTheCapWithNoneIdleANewConnectionIsRefused) {
  HttpLimits l = FastLimits();
  l.max_connections = 2;
  l.header_timeout = Millis(5000);
  Start(l);
  Client a(port_), b(port_);
  ASSERT_TRUE(a.Send("GET /a HTTP/1.1\r\n"));
  ASSERT_TRUE(b.Send("GET /b HTTP/1.1\r\n"));
  ASSERT_TRUE(WaitStats([](const HttpServer::Stats& s) { return s.open == 2 && s.idle == 0; }));
  Client refused(port_);
  EXPECT_TRUE(refused.Closed());
  EXPECT_EQ(Stats().refused, 1u);
  ASSERT_TRUE(a.Send("\r\n"));
  EXPECT_EQ(a.Read().body, "GET /a q=");
}

TEST_F(HttpServerTest, AResponderCalledAfterTheClientLeftDoesNothing) {
  Start();
  Client c(port_);
  ASSERT_TRUE(c.Send(Get("/hold")));
  ASSERT_TRUE(WaitStats([&](const HttpServer::Stats&) {
    return OnLoop([&] { return handler_.held.size(); }) == 1u;
  }));
  c.Reset();  // the client goes away while its request is held
  ASSERT_TRUE(WaitStats([](const HttpServer::Stats& s) { return s.open == 0; }));
  OnLoop([&] {  // the connection is gone: nothing to answer, nothing to break; twice neither
    handler_.held[0](HttpResponse::Text(200, "too late"));
    handler_.held[0](HttpResponse::Text(200, "twice"));
    return 0;
  });
  ASSERT_TRUE(WaitStats([](const HttpServer::Stats& s) { return s.open == 0; }));
  Client next(port_);
  ASSERT_TRUE(next.Send(Get("/still")));
  EXPECT_EQ(next.Read().body, "GET /still q=");
}

TEST_F(HttpServerTest, ListeningOnATakenPortIsAnError) {
  Start();
  HttpServer second(loop_, FastLimits(), handler_);
  Status st = OnLoop([&] { return second.Listen("127.0.0.1", port_); });
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("bind"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace pgrt
