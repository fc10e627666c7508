// HAProxy in front of a primary and a replica, routing by pgrt's Patroni-style role checks:
// writes follow the primary across a failover, with a configuration of our own and with
// Patroni's own files (tests/integration/data/), changed only in addresses and ports.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "integration/haproxy_helpers.h"
#include "integration/replication_helpers.h"

namespace pgrt::testing::repl {
namespace {

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
         // No argument: HAProxy sends OPTIONS /, which Patroni answers as /primary.
         "  option httpchk\n"
         "  http-check expect status 200\n"
         "  option log-health-checks\n"
         // A node that stops being the primary loses its client sessions at once.
         "  default-server on-marked-down shutdown-sessions\n" +
         server("node_a", a) + server("node_b", b);
}

// A file of tests/integration/data/, as published there.
std::string DataFile(const std::string& name) {
  std::string text =
      ReadFileOrEmpty(std::string(PGRT_SOURCE_DIR) + "/tests/integration/data/" + name);
  EXPECT_FALSE(text.empty()) << name;
  return text;
}

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// Patroni's confd template rendered as confd renders it for two members (node_a, node_b)
// whose conn_url and api_url name these nodes; the listeners bound to loopback ports.
std::string RenderConfdTemplate(const std::string& tmpl, const PgrtNode& a, const PgrtNode& b,
                                int stats_port, int primary_port, int replicas_port) {
  // One member's line: {{base .Key}}, the host:port of conn_url, the port of api_url.
  static const std::regex kMemberLine(
      R"(\{\{base \.Key\}\} \{\{\$data := json \.Value\}\}\{\{base \(replace [^}]*\}\})"
      R"(( maxconn 100 check port )\{\{index \(split \(index [^}]*\}\})");
  static const std::regex kRange(
      R"(\{\{range gets "/members/\*"\}\}([^{]*\{\{[^\n]*\n)\{\{end\}\})");
  auto member = [](const std::string& body, const char* name, const PgrtNode& n) {
    std::smatch line;
    if (!std::regex_search(body, line, kMemberLine)) return body;  // the caller sees "{{"
    return line.prefix().str() + name + " 127.0.0.1:" + std::to_string(n.pg_port()) +
           line[1].str() + std::to_string(n.api_port()) + line.suffix().str();
  };
  std::string out;
  std::string rest = tmpl;
  std::smatch m;
  while (std::regex_search(rest, m, kRange)) {
    out += m.prefix().str() + member(m[1].str(), "node_a", a) + member(m[1].str(), "node_b", b);
    rest = m.suffix().str();
  }
  out += rest;
  ReplaceAll(out, "bind *:7000", "bind 127.0.0.1:" + std::to_string(stats_port));
  ReplaceAll(out, "bind *:5000", "bind 127.0.0.1:" + std::to_string(primary_port));
  ReplaceAll(out, "bind *:5001", "bind 127.0.0.1:" + std::to_string(replicas_port));
  return out;
}

// The state HAProxy's stats page (CSV) gives a server: "UP", "DOWN", "UP 1/3", ... ("" when
// the page does not answer).
std::string ServerState(int stats_port, const std::string& proxy, const std::string& server) {
  httplib::Client cli("127.0.0.1", stats_port);
  cli.set_connection_timeout(2, 0);
  cli.set_read_timeout(5, 0);
  cli.set_url_encode(false);  // ";csv" must reach HAProxy as it is, not as "%3Bcsv"
  httplib::Result page = cli.Get("/;csv");
  if (!page) return "";
  std::istringstream lines(page->body);
  std::string line;
  int status_column = -1;
  while (std::getline(lines, line)) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line[0] == '#') {
      for (size_t i = 0; i < cells.size(); ++i)
        if (cells[i] == "status") status_column = static_cast<int>(i);
      continue;
    }
    if (status_column >= 0 && cells.size() > static_cast<size_t>(status_column) &&
        cells[0] == proxy && cells[1] == server)
      return cells[status_column];
  }
  return "";
}

// Until HAProxy has each (proxy, server) in the state given.
bool WaitForStates(int stats_port,
                   const std::vector<std::tuple<std::string, std::string, std::string>>& want,
                   milliseconds timeout, std::string* seen) {
  return WaitUntil(
      [&] {
        bool all = true;
        seen->clear();
        for (const auto& [proxy, server, state] : want) {
          std::string now = ServerState(stats_port, proxy, server);
          *seen += proxy + "/" + server + "=" + now + " ";
          all = all && now == state;
        }
        return all;
      },
      timeout, milliseconds(200));
}

// Reads through HAProxy: "port,in_recovery" of the postgres that answered ("" on failure).
// One statement on a new connection through HAProxy: its first value, or the error (so a
// failure says whether routing or the machine's load was at fault).
std::string FirstValueThrough(const PgrtNode& node, int frontend_port, const std::string& sql) {
  ConnParams params = node.Conn();
  params["port"] = std::to_string(frontend_port);
  // Routing is under test, not speed: SCRAM through HAProxy on a loaded 2-core machine has
  // taken more than 2 s.
  params["connect_timeout"] = "10";
  auto conn = PgConn::Connect(params);
  if (!conn.ok()) return "error: " + conn.status().message();
  auto r = conn->Exec(sql);
  if (!r.ok()) return "error: " + r.status().message();
  if (r->rows() != 1) return "error: no row";
  return r->Get(0, 0);
}

std::string ReadThrough(const PgrtNode& node, int frontend_port) {
  return FirstValueThrough(node, frontend_port,
                           "SELECT inet_server_port()::text || ',' || pg_is_in_recovery()::text");
}

// Writes one row through HAProxy; the port of the postgres that took it (or the error).
std::string WriteThrough(const PgrtNode& node, int frontend_port, const std::string& value) {
  return FirstValueThrough(
      node, frontend_port,
      "INSERT INTO t VALUES ('" + value + "'); SELECT inet_server_port()::text");
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

namespace pgrt::testing::repl {
namespace {

std::string FollowBody(const PgrtNode& primary) {
  return json{{"host", "127.0.0.1"}, {"port", primary.pg_port()}, {"slot", ""}}.dump();
}

}  // namespace

// Patroni's confd template (HEAD /primary and HEAD /replica, expect 200, inter 3s fall 3
// rise 2), rendered for the two nodes: writes reach the primary and reads the replica, and
// after a promotion and a rewind of the old primary, the other way round.
TEST(ReplicationHaproxy, PatronisConfdTemplateRoutesWritesAndReadsAcrossAPromotionAndARewind) {
  if (::access(kHaproxy, X_OK) != 0)
    GTEST_SKIP() << kHaproxy << " is not installed (scripts/install-deps.sh installs it)";
  std::unique_ptr<PgrtNode> a, b;
  ASSERT_NO_FATAL_FAILURE(StartPair(a, b));

  TempDir dir;
  const int stats = FreePort(), writes = FreePort(), reads = FreePort();
  std::string config = dir.Sub("haproxy.cfg");
  std::string rendered =
      RenderConfdTemplate(DataFile("patroni_haproxy_confd.tmpl"), *a, *b, stats, writes, reads);
  ASSERT_EQ(rendered.find("{{"), std::string::npos) << rendered;
  ASSERT_NE(rendered.find("\tserver node_b 127.0.0.1:" + std::to_string(b->pg_port()) +
                          " maxconn 100 check port " + std::to_string(b->api_port()) + "\n"),
            std::string::npos)
      << rendered;
  WriteFileOrDie(config, rendered);
  std::string log = dir.Sub("haproxy.log");
  std::optional<Child> haproxy = StartHaproxy(config, log);
  ASSERT_TRUE(haproxy.has_value());

  const std::string a_port = std::to_string(a->pg_port());
  const std::string b_port = std::to_string(b->pg_port());
  std::string seen;
  ASSERT_TRUE(WaitForStates(stats,
                            {{"primary", "node_a", "UP"},
                             {"primary", "node_b", "DOWN"},
                             {"replicas", "node_a", "DOWN"},
                             {"replicas", "node_b", "UP"}},
                            milliseconds(30000), &seen))
      << seen << "\n"
      << ReadFileOrEmpty(log);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(WriteThrough(*a, writes, "before"), a_port) << ReadFileOrEmpty(log);
    EXPECT_EQ(ReadThrough(*a, reads), b_port + ",true") << ReadFileOrEmpty(log);
  }

  JsonResponse promoted = Call(*b, "POST", "/__opr/replication/promote");
  ASSERT_EQ(promoted.status, 200) << promoted.body.dump() << b->Log();
  JsonResponse followed = Call(*a, "POST", "/__opr/replication/follow", kApiToken, FollowBody(*b));
  ASSERT_EQ(followed.status, 200) << followed.body.dump() << a->Log();

  ASSERT_TRUE(WaitForStates(stats,
                            {{"primary", "node_a", "DOWN"},
                             {"primary", "node_b", "UP"},
                             {"replicas", "node_a", "UP"},
                             {"replicas", "node_b", "DOWN"}},
                            milliseconds(45000), &seen))
      << seen << "\n"
      << ReadFileOrEmpty(log) << a->Log();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(WriteThrough(*b, writes, "after"), b_port) << ReadFileOrEmpty(log);
    EXPECT_EQ(ReadThrough(*b, reads), a_port + ",true") << ReadFileOrEmpty(log);
  }
  EXPECT_EQ(b->Query("SELECT count(*) FROM t WHERE v = 'before'"), "5");
  EXPECT_EQ(b->Query("SELECT count(*) FROM t WHERE v = 'after'"), "5");
  EXPECT_TRUE(WaitForValue(*a, "SELECT count(*) FROM t", "10")) << a->Log();

  haproxy->Signal(SIGTERM).IgnoreError();  // the destructor kills and reaps it regardless
  EXPECT_TRUE(haproxy->Wait().ok());
}

}  // namespace pgrt::testing::repl
