// The client door's parts (src/idle/): who a relayed client is for pg_hba.conf, the error
// a held client gets, and the door itself on a real loop with loopback sockets: a client
// held while the backend sleeps is let through with its first bytes once it is ready, a
// relay carries large replies both ways, and a refused client reads a PostgreSQL error.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "idle/client_class.h"
#include "idle/door.h"
#include "idle/wire.h"
#include "util/clock.h"

namespace pgrt {
namespace {

sockaddr_storage Addr(const std::string& ip) {
  sockaddr_storage ss{};
  if (ip.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    inet_pton(AF_INET, ip.c_str(), &a->sin_addr);
  }
  return ss;
}

ClientClass ClassOf(const std::string& ip, const std::vector<std::string>& nets) {
  sockaddr_storage ss = Addr(ip);
  return Classify(reinterpret_cast<sockaddr*>(&ss), nets);
}

TEST(ClientClass, LoopbackIsLocalAndRemoteClientsReplicateOnlyFromTheirNetworks) {
  const std::vector<std::string> nets = {"198.51.0.0/16", "2001:db8::/32"};
  EXPECT_EQ(ClassOf("127.0.0.1", nets), ClientClass::kLocal);
  EXPECT_EQ(ClassOf("127.9.9.9", nets), ClientClass::kLocal);
  EXPECT_EQ(ClassOf("::1", nets), ClientClass::kLocal);
  EXPECT_EQ(ClassOf("198.51.200.3", nets), ClientClass::kRemoteReplication);
  EXPECT_EQ(ClassOf("::ffff:198.51.0.9", nets), ClientClass::kRemoteReplication);
  EXPECT_EQ(ClassOf("203.0.113.1", nets), ClientClass::kRemote);
  EXPECT_EQ(ClassOf("2001:db8:1::5", nets), ClientClass::kRemoteReplication);
  EXPECT_EQ(ClassOf("2001:db9::5", nets), ClientClass::kRemote);
  EXPECT_EQ(ClassOf("192.0.2.1", {"0.0.0.0/0"}), ClientClass::kRemoteReplication);
  EXPECT_EQ(ClassOf("192.0.2.1", {}), ClientClass::kRemote);
  EXPECT_STREQ(SourceAddress(ClientClass::kRemote), "127.0.0.2");
  EXPECT_STREQ(SourceAddress(ClientClass::kRemoteReplication), "127.0.0.3");
}

TEST(Wire, FatalErrorIsAnErrorResponseWithSeverityCodeAndMessage) {
  const std::string e = FatalError("57P03", "postgres did not wake");
  ASSERT_GE(e.size(), 5u);
  EXPECT_EQ(e[0], 'E');
  const uint32_t len =
      (uint8_t(e[1]) << 24) | (uint8_t(e[2]) << 16) | (uint8_t(e[3]) << 8) | uint8_t(e[4]);
  EXPECT_EQ(len, e.size() - 1);
  EXPECT_NE(e.find(std::string("SFATAL\0", 7)), std::string::npos);
  EXPECT_NE(e.find(std::string("C57P03\0", 7)), std::string::npos);
  EXPECT_NE(e.find(std::string("Mpostgres did not wake\0", 23)), std::string::npos);
  EXPECT_EQ(e.back(), '\0');
  EXPECT_EQ(FatalError("57P03", std::string("a\0b", 3)).find(std::string("a\0b", 3)),
            std::string::npos)
      << "a NUL in the message cannot end its field early";
}

// A loopback echo-ish backend: accepts, reads what comes, answers "got:<bytes>" and then
// `extra` bytes.
class Backend {
 public:
  Backend() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Backend() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  void Listen(size_t extra) {
    ASSERT_EQ(::listen(fd_, 16), 0);
    thread_ = std::thread([this, extra] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[64];
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      std::string reply =
          "got:" + std::string(buf, n > 0 ? size_t(n) : 0) + std::string(extra, 'x');
      size_t off = 0;
      while (off < reply.size()) {
        ssize_t w = ::send(c, reply.data() + off, reply.size() - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += size_t(w);
      }
      ::close(c);
    });
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

int ConnectTo(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  return out;
}

int FreePort() {
  Backend b;
  return b.port();
}

struct DoorRig {
  RealClock clock;
  EventLoop loop{clock};
  Backend backend;
  std::unique_ptr<ClientDoor> door;
  int wakes = 0;
  size_t sessions = 0;
  int port = FreePort();

  explicit DoorRig(Millis wake_timeout = Millis(10000)) {
    EXPECT_TRUE(loop.Init().ok());
    DoorOptions o;
    o.listen_addresses = {"127.0.0.1"};
    o.port = port;
    o.backend_port = backend.port();
    o.wake_timeout = wake_timeout;
    ClientDoor::Hooks h;
    h.wake = [this] { ++wakes; };
    h.sessions = [this](size_t n) { sessions = n; };
    door = std::make_unique<ClientDoor>(loop, o, h);
    EXPECT_TRUE(door->Listen().ok());
  }
  // Runs the loop until `done` or 10 s.
  void RunUntil(const std::function<bool()>& done) {
    for (int i = 0; i < 2000 && !done(); ++i) ASSERT_TRUE(loop.RunOnce(Millis(5)).ok());
  }
};

TEST(ClientDoor, AHeldClientWaitsSilentlyThenReachesTheBackendWithItsFirstBytes) {
  DoorRig rig;
  int client = ConnectTo(rig.port);
  ASSERT_EQ(::send(client, "hello", 5, 0), 5);
  rig.RunUntil([&] { return rig.door->stats().held == 1; });
  EXPECT_EQ(rig.wakes, 1) << "a held client asks for a wake";
  EXPECT_EQ(rig.sessions, 1u);
  // The backend "wakes": 1 MB of reply must cross the relay intact.
  rig.backend.Listen(1 << 20);
  std::optional<Millis> waited = rig.door->Open();
  EXPECT_TRUE(waited.has_value());
  std::string got;
  std::thread reader([&] { got = ReadAll(client); });
  rig.RunUntil([&] { return rig.sessions == 0; });
  reader.join();
  EXPECT_EQ(got.substr(0, 9), "got:hello");
  EXPECT_EQ(got.size(), 9u + (1 << 20));
  EXPECT_EQ(rig.door->stats().accepted, 1u);
  ::close(client);
}

TEST(ClientDoor, AClientHeldPastTheWakeTimeoutReadsAPostgresErrorNotAReset) {
  DoorRig rig(Millis(200));
  rig.door->SetWakeProblem([] { return "disk full"; });
  int client = ConnectTo(rig.port);
  rig.RunUntil([&] { return rig.door->stats().refused == 1; });
  const std::string e = ReadAll(client);
  ASSERT_FALSE(e.empty());
  EXPECT_EQ(e[0], 'E');
  EXPECT_NE(e.find("postgres did not wake within 0 s: disk full"), std::string::npos) << e;
  EXPECT_EQ(rig.sessions, 0u);
  ::close(client);
}

TEST(ClientDoor, ARefusedClientThatAskedForTlsGetsNThenTheErrorAfterItsStartupPacket) {
  DoorRig rig;
  int client = ConnectTo(rig.port);
  const char ssl_request[] = {0, 0, 0, 8, 0x04, char(0xd2), 0x16, 0x2f};
  ASSERT_EQ(::send(client, ssl_request, 8, 0), 8);
  rig.RunUntil([&] { return rig.door->stats().held == 1; });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(rig.loop.RunOnce(Millis(5)).ok());  // read the 8 bytes
  rig.door->Refuse("the wake failed");
  char n = 0;
  ASSERT_EQ(::recv(client, &n, 1, 0), 1);
  EXPECT_EQ(n, 'N');
  ASSERT_EQ(::send(client, "startup", 7, 0), 7);
  std::string e;
  std::thread reader([&] { e = ReadAll(client); });
  rig.RunUntil([&] { return rig.sessions == 0; });
  reader.join();
  ASSERT_FALSE(e.empty());
  EXPECT_EQ(e[0], 'E');
  EXPECT_NE(e.find("the wake failed"), std::string::npos);
  ::close(client);
}

TEST(ClientDoor, AnOpenDoorRelaysNewClientsAtOnceWithoutAskingForAWake) {
  DoorRig rig;
  rig.backend.Listen(0);
  rig.door->Open();
  int client = ConnectTo(rig.port);
  ASSERT_EQ(::send(client, "q", 1, 0), 1);
  std::string got;
  std::thread reader([&] { got = ReadAll(client); });
  rig.RunUntil([&] { return rig.door->stats().accepted == 1 && rig.sessions == 0; });
  reader.join();
  EXPECT_EQ(got, "got:q");
  EXPECT_EQ(rig.wakes, 0);
  ::close(client);
}

}  // namespace
}  // namespace pgrt
