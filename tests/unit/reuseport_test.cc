// The client port's reuseport group (idle/reuseport.h) and the shim postgres preloads
// (src/shim/): which member gets a new connection, and what the shim changes in a process.
#include "idle/reuseport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace pgrt {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int FreePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = Loopback(0);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// postgres's side: a member joining the group as the shim makes it.
UniqueFd Member(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int yes = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
  sockaddr_in a = Loopback(port);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::listen(fd.get(), 16), 0);
  return fd;
}

UniqueFd Connect(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = Loopback(port);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

// Whether `listener` has a connection to accept (it takes it).
bool Took(int listener) {
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, 200) != 1) return false;
  UniqueFd c(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  return static_cast<bool>(c);
}

TEST(ReuseportGroup, TheSteeringPicksTheMemberThatGetsEachNewConnection) {
  const int port = FreePort();
  sockaddr_in a = Loopback(port);
  auto pgrt = ListenInReuseportGroup(reinterpret_cast<sockaddr*>(&a), sizeof a, ::geteuid(), 16);
  ASSERT_TRUE(pgrt.ok()) << pgrt.status().message();
  UniqueFd postgres = Member(port);

  // Steered to pgrt from the start: postgres's socket gets nothing yet.
  for (int i = 0; i < 3; ++i) {
    UniqueFd c = Connect(port);
    EXPECT_TRUE(Took(pgrt->get()));
    EXPECT_FALSE(Took(postgres.get()));
  }
  ASSERT_TRUE(SteerReuseportGroup(pgrt->get(), kSteerToPostgres).ok());
  for (int i = 0; i < 5; ++i) {
    UniqueFd c = Connect(port);
    EXPECT_TRUE(Took(postgres.get()));
    EXPECT_FALSE(Took(pgrt->get()));
  }
  ASSERT_TRUE(SteerReuseportGroup(pgrt->get(), kSteerToPgrt).ok());
  {
    UniqueFd c = Connect(port);
    EXPECT_TRUE(Took(pgrt->get()));
  }
  // postgres gone while still steered to it: the kernel's fallback is pgrt's socket.
  ASSERT_TRUE(SteerReuseportGroup(pgrt->get(), kSteerToPostgres).ok());
  postgres.reset();
  for (int i = 0; i < 3; ++i) {
    UniqueFd c = Connect(port);
    EXPECT_TRUE(Took(pgrt->get()));
  }
}

TEST(ReuseportGroup, IsNotJoinedWhenSomeoneListensOnThePortAlready) {
  const int port = FreePort();
  UniqueFd stranger = Member(port);  // with SO_REUSEPORT even: a stray postgres
  sockaddr_in a = Loopback(port);
  auto pgrt = ListenInReuseportGroup(reinterpret_cast<sockaddr*>(&a), sizeof a, ::geteuid(), 16);
  ASSERT_FALSE(pgrt.ok());
  EXPECT_NE(pgrt.status().message().find("in use"), std::string::npos) << pgrt.status().message();
}

TEST(ReuseportShim, SetsReuseportOnItsPortOnlyAndLeavesNoTraceInTheEnvironment) {
  auto shim = FindReuseportShim();
  ASSERT_TRUE(shim.ok()) << shim.status().message();
  const int port = FreePort();
  const std::string p = std::to_string(port);
  // One line, double quotes only: it goes to the shell between single quotes.
  const std::string script =
      "import os, socket; a = socket.socket(); a.bind((\"127.0.0.1\", " + p +
      ")); b = socket.socket(); b.bind((\"127.0.0.1\", 0)); "
      "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((\"127.0.0.1\", " +
      p +
      ")); r = lambda s: s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT); "
      "print(r(a), r(b), r(u), \"LD_PRELOAD\" in os.environ, "
      "\"PGRT_REUSEPORT_PORT\" in os.environ)";
  const std::string cmd = "env -i LD_PRELOAD=" + *shim + " PGRT_REUSEPORT_PORT=" + p +
                          " /usr/bin/python3 -c '" + script + "'";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buf[256] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, pipe);
  ::pclose(pipe);
  // The TCP socket on the port: reuseport; another port, or UDP: untouched; both variables
  // gone before the program's own code ran.
  EXPECT_EQ(std::string(buf, n), "1 0 0 False False\n") << cmd;
}

}  // namespace
}  // namespace pgrt
