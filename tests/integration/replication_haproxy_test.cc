// HAProxy in front of a primary and a replica, routing by pgrt's /primary role check the way
// Patroni setups do: writes follow the primary across a failover.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "integration/replication_helpers.h"

namespace pgrt::testing::repl {
namespace {

constexpr char kHaproxy[] = "/usr/sbin/haproxy";

std::string HaproxyConfig(int frontend_port, const PgrtNode& a, const PgrtNode& b) {
  auto server = [](const char* name, const PgrtNode& n) {
    return std::string("  server ") + name + " 127.0.0.1:" + std::to_string(n.pg_port()) +
           " check port " + std::to_string(n.api_port()) + " inter 200ms fall 1 rise 1\n";
  };
  std::string bind = "  bind 127.0.0.1:" + std::to_string(frontend_port) + "\n";
  return "global\n"
         "  maxconn 100\n"
         "  log stderr format raw local0 info\n"
         "defaults\n"
         "  mode tcp\n"
         "  log global\n"
         "  option tcplog\n"
         "  timeout connect 2s\n"
         "  timeout client 30s\n"
         "  timeout server 30s\n"
         "  timeout check 1s\n"
         "frontend postgres\n" +
         bind +
         "  default_backend primary\n"
         "backend primary\n"
         "  option httpchk GET /primary\n"
         "  http-check expect status 200\n"
         "  option log-health-checks\n"
         // A node that stops being the primary loses its client sessions at once.
         "  default-server on-marked-down shutdown-sessions\n" +
         server("node_a", a) + server("node_b", b);
}

// haproxy in the foreground, its output in `log`; killed and reaped by Child's destructor.
std::optional<Child> StartHaproxy(const std::string& config, const std::string& log) {
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  SpawnSpec spec;
  spec.name = "haproxy";
  spec.argv = {kHaproxy, "-db", "-f", config};
  spec.env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
  spec.stdout_fd = fd;
  spec.stderr_fd = fd;
  auto child = Child::Spawn(spec);
  ::close(fd);
  if (!child.ok()) return std::nullopt;
  return std::move(*child);
}

// Writes one row through HAProxy; the port of the postgres that took it ("" on failure).
std::string WriteThrough(const PgrtNode& node, int frontend_port, const std::string& value) {
  ConnParams params = node.Conn();
  params["port"] = std::to_string(frontend_port);
  params["connect_timeout"] = "2";
  auto conn = PgConn::Connect(params);
  if (!conn.ok()) return "";
  auto r = conn->Exec("INSERT INTO t VALUES ('" + value + "'); SELECT inet_server_port()::text");
  if (!r.ok() || r->rows() != 1) return "";
  return r->Get(0, 0);
}

}  // namespace

TEST(ReplicationHaproxy, WritesThroughHaproxyFollowThePrimaryAcrossAFailover) {
  if (::access(kHaproxy, X_OK) != 0)
    GTEST_SKIP() << kHaproxy << " is not installed (scripts/install-deps.sh installs it)";
  std::unique_ptr<PgrtNode> primary, replica;
  ASSERT_NO_FATAL_FAILURE(StartPair(primary, replica));

  TempDir dir;
  int frontend = FreePort();
  std::string config = dir.Sub("haproxy.cfg");
  WriteFileOrDie(config, HaproxyConfig(frontend, *primary, *replica));
  std::string log = dir.Sub("haproxy.log");
  std::optional<Child> haproxy = StartHaproxy(config, log);
  ASSERT_TRUE(haproxy.has_value());

  const std::string primary_port = std::to_string(primary->pg_port());
  const std::string replica_port = std::to_string(replica->pg_port());
  // HAProxy counts a server up until its first check fails: wait for the replica to be out.
  ASSERT_TRUE(
      WaitUntil([&] { return ReadFileOrEmpty(log).find("node_b is DOWN") != std::string::npos; },
                milliseconds(10000), milliseconds(50)))
      << ReadFileOrEmpty(log);
  std::string landed;
  ASSERT_TRUE(WaitUntil(
      [&] { return (landed = WriteThrough(*primary, frontend, "before")) == primary_port; },
      milliseconds(10000), milliseconds(100)))
      << "landed on '" << landed << "'\n"
      << ReadFileOrEmpty(log);
  // Only the primary is in rotation: every write lands there.
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(WriteThrough(*primary, frontend, "again"), primary_port)
        << ReadFileOrEmpty(log) << primary->Log();

  ASSERT_EQ(ExitCode(primary->Stop(SIGTERM)), 0) << primary->Log();
  JsonResponse promoted = Call(*replica, "POST", "/__opr/replication/promote");
  ASSERT_EQ(promoted.status, 200) << promoted.body.dump() << replica->Log();

  EXPECT_TRUE(WaitUntil(
      [&] { return (landed = WriteThrough(*replica, frontend, "after")) == replica_port; },
      milliseconds(15000), milliseconds(100)))
      << "landed on '" << landed << "'\n"
      << ReadFileOrEmpty(log);
  EXPECT_EQ(replica->Query("SELECT count(*) FROM t WHERE v = 'before'"), "1");
  EXPECT_EQ(replica->Query("SELECT count(*) FROM t WHERE v = 'after'"), "1");

  haproxy->Signal(SIGTERM).IgnoreError();  // the destructor kills and reaps it regardless
  EXPECT_TRUE(haproxy->Wait().ok());
}

}  // namespace pgrt::testing::repl
