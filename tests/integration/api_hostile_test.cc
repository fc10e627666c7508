// The management API under slow, idle, oversized, malformed and pipelined clients: they cost
// pgrt a descriptor and a little memory each, never the answers load balancers depend on.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness/harness.h"
#include "util/unique_fd.h"

namespace pgrt::testing {
namespace {

using std::chrono::steady_clock;

// Enough descriptors for the test's own side of thousands of connections.
void RaiseOpenFileLimit(rlim_t want) {
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  if (lim.rlim_cur >= want) return;
  lim.rlim_cur = std::min(want, lim.rlim_max);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0);
  ASSERT_GE(lim.rlim_cur, want) << "the hard open file limit is too low for this test";
}

// A raw loopback connection with a bounded receive time.
class Conn {
 public:
  explicit Conn(int port, int recv_timeout_ms = 5000) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval tv{recv_timeout_ms / 1000, (recv_timeout_ms % 1000) * 1000};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  bool ok() const { return ok_; }
  void SetReceiveTimeout(milliseconds t) {
    long ms = std::max<long>(1, static_cast<long>(t.count()));
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  bool Send(const std::string& s) {
    for (size_t off = 0; off < s.size();) {
      ssize_t n = ::send(fd_.get(), s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // The status of the next answer (0: none), its body in *body.
  int ReadStatus(std::string* body = nullptr) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill()) return 0;
    std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t length = 0;
    if (auto at = head.find("Content-Length: "); at != std::string::npos)
      length = std::stoul(head.substr(at + 16));
    while (buf_.size() < length)
      if (!Fill()) return 0;
    if (body) *body = buf_.substr(0, length);
    buf_.erase(0, length);
    return head.size() > 12 ? std::stoi(head.substr(9, 3)) : 0;
  }

 private:
  bool Fill() {
    char tmp[8192];
    ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  UniqueFd fd_;
  bool ok_ = false;
  std::string buf_;
};

std::string Get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n"; }

// kB of a /proc/PID/status line such as "VmRSS:".
long StatusKb(pid_t pid, const std::string& field) {
  std::string s = ReadProcFile(pid, "status");
  auto at = s.find(field);
  return at == std::string::npos ? -1 : std::stol(s.substr(at + field.size()));
}

// One probe on a fresh connection, as a load balancer makes it: its time, or a huge one
// when it got no 200.
std::chrono::microseconds Probe(int port, const std::string& path) {
  auto t0 = steady_clock::now();
  Conn c(port);
  int status = c.ok() && c.Send(Get(path)) ? c.ReadStatus() : 0;
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - t0);
  return status == 200 ? took : std::chrono::microseconds(std::chrono::hours(1));
}

}  // namespace

TEST(ApiHostile, ProbesAnswerQuicklyWhileSlowIdleOversizedMalformedAndPipelinedClientsAreOpen) {
  ASSERT_NO_FATAL_FAILURE(RaiseOpenFileLimit(4096));
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  const int port = node.api_port();

  // 30 slowloris clients: a request line, then one byte every 200 ms, never finished.
  std::vector<std::unique_ptr<Conn>> slow;
  for (int i = 0; i < 30; ++i) {
    slow.push_back(std::make_unique<Conn>(port));
    ASSERT_TRUE(slow.back()->Send("GET /__opr/health HTTP/1.1\r\nX-Slow: "));
  }
  std::atomic<bool> stop{false};
  std::thread drip([&] {
    for (int round = 0; round < 100 && !stop; ++round) {  // 20 s at most
      for (auto& c : slow) c->Send("a");
      std::this_thread::sleep_for(milliseconds(200));
    }
  });
  struct StopOnExit {  // a failed assertion returns early: the thread must not outlive it
    std::atomic<bool>& stop;
    std::thread& thread;
    ~StopOnExit() {
      stop = true;
      thread.join();
    }
  } stop_drip{stop, drip};
  // 200 idle keep-alive clients: one answered request each, then silence.
  std::vector<std::unique_ptr<Conn>> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(std::make_unique<Conn>(port));
    ASSERT_TRUE(idle.back()->Send(Get("/liveness")));
    ASSERT_EQ(idle.back()->ReadStatus(), 200) << i;
  }
  // An oversized header, a chunked body without a token, a malformed request.
  Conn big_header(port);
  ASSERT_TRUE(big_header.Send("GET /primary HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'h')));
  Conn chunked(port);
  ASSERT_TRUE(chunked.Send(
      "POST /__opr/backup HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n" +
      std::string(32 * 1024, 'b')));
  Conn malformed(port);
  ASSERT_TRUE(malformed.Send("THIS IS NOT HTTP\r\n\r\n"));
  // Three pipelined requests in one write.
  Conn pipelined(port);
  ASSERT_TRUE(pipelined.Send(Get("/liveness") + Get("/nope") + Get("/__opr/timings")));

  std::vector<std::chrono::microseconds> times;
  for (int i = 0; i < 50; ++i) times.push_back(Probe(port, i % 2 ? "/primary" : "/__opr/health"));
  std::sort(times.begin(), times.end());
  auto p99 = times[times.size() * 99 / 100];
  EXPECT_LT(p99, milliseconds(250))
      << "p99 " << p99.count() << " µs; max " << times.back().count() << " µs";

  EXPECT_EQ(big_header.ReadStatus(), 431);
  EXPECT_EQ(chunked.ReadStatus(), 401) << "the token is checked before the body is read";
  EXPECT_EQ(malformed.ReadStatus(), 400);
  EXPECT_EQ(pipelined.ReadStatus(), 200);
  EXPECT_EQ(pipelined.ReadStatus(), 404);
  std::string timings;
  EXPECT_EQ(pipelined.ReadStatus(&timings), 200);
  EXPECT_EQ(timings.rfind("startup=", 0), 0u) << timings;
  // The idle ones are still served on their kept-alive connections.
  for (int i = 0; i < 200; i += 50) {
    ASSERT_TRUE(idle[i]->Send(Get("/liveness")));
    EXPECT_EQ(idle[i]->ReadStatus(), 200) << i;
  }
  EXPECT_TRUE(node.running()) << node.Log();
}

TEST(ApiHostile, ABurstOf2000ConnectionsIsAcceptedAndEveryOneAnswered) {
  ASSERT_NO_FATAL_FAILURE(RaiseOpenFileLimit(4096));
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  constexpr int kBurst = 2000;
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < kBurst; ++i) {
    conns.push_back(std::make_unique<Conn>(node.api_port(), 10000));
    ASSERT_TRUE(conns.back()->ok()) << i;
  }
  for (auto& c : conns) ASSERT_TRUE(c->Send(Get("/liveness")));
  int answered = 0;
  auto deadline = steady_clock::now() + std::chrono::seconds(20);
  for (auto& c : conns) {  // every read waits only for what is left of the 20 s
    auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) break;
    c->SetReceiveTimeout(left);
    if (c->ReadStatus() == 200) ++answered;
  }
  EXPECT_EQ(answered, kBurst);
  EXPECT_TRUE(node.running()) << node.Log();
}

TEST(ApiHostile, A256MbChunkedPostWithoutATokenLeavesPgrtMemoryBounded) {
  PgrtNode node;
  node.Start();
  ASSERT_TRUE(node.WaitHealthy()) << node.Log();
  const long before = StatusKb(node.pid(), "VmRSS:");
  ASSERT_GT(before, 0);
  long peak = before;
  Conn c(node.api_port());
  ASSERT_TRUE(
      c.Send("POST /__opr/replication/promote HTTP/1.1\r\nHost: t\r\n"
             "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";  // 64 kB
  size_t sent = 0;
  auto deadline = steady_clock::now() + std::chrono::seconds(30);
  for (int i = 0; i < 4096 && steady_clock::now() < deadline; ++i) {  // 256 MB at most
    if (!c.Send(chunk)) break;  // the server closed: nothing more is read
    sent += chunk.size();
    if (i % 64 == 0) peak = std::max(peak, StatusKb(node.pid(), "VmRSS:"));
  }
  peak = std::max(peak, StatusKb(node.pid(), "VmRSS:"));
  EXPECT_LT(sent, size_t{256} << 20) << "the server read the whole body";
  EXPECT_LT(peak - before, 16 * 1024) << "VmRSS before " << before << " kB, peak " << peak << " kB";
  EXPECT_EQ(node.Get("/__opr/health").status, 200);
}

}  // namespace pgrt::testing
