// PgBouncer's files as pgrt renders them (src/pooler/pgbouncer_files.h), and the lines it
// adds to pg_hba.conf and pg_ident.conf for PgBouncer's auth role.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "pgdata/settings.h"
#include "pooler/pgbouncer_files.h"
#include "pooler/scram.h"

namespace pgrt {
namespace {

// key → value of every "key = value" line of the [pgbouncer] section.
std::map<std::string, std::string> IniSettings(const std::string& ini) {
  std::map<std::string, std::string> out;
  std::istringstream in(ini);
  bool section = false;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == ';') continue;
    if (line[0] == '[') {
      section = line == "[pgbouncer]";
      continue;
    }
    size_t eq = line.find(" = ");
    if (!section || eq == std::string::npos) continue;
    EXPECT_EQ(out.count(line.substr(0, eq)), 0u) << line;
    out[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return out;
}

std::vector<std::vector<std::string>> Lines(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string x; words >> x;) w.push_back(x);
    out.push_back(w);
  }
  return out;
}

PoolerFiles Render(const Config& c, const std::string& cert = "") {
  PoolerFilesInput in{c,    PoolerPaths::From(c),
                      cert, cert.empty() ? "" : "/tls/server.key",
                      "",   "SCRAM-SHA-256$4096:c2FsdA==$a:b"};
  auto f = RenderPoolerFiles(in);
  EXPECT_TRUE(f.ok()) << f.status().message();
  return f.ok() ? *f : PoolerFiles{};
}

TEST(PgbouncerIni, CarriesEveryPgbouncerVariableAndTheAuthQuery) {
  Config c;
  c.pgbouncer_port = 7432;
  c.pgbouncer_pool_mode = "session";
  c.pgbouncer_max_client_conn = 321;
  c.pgbouncer_default_pool_size = 7;
  c.pgbouncer_min_pool_size = 2;
  c.pgbouncer_reserve_pool_size = 3;
  c.pgbouncer_reserve_pool_timeout = 4;
  c.pgbouncer_server_reset_query = "DISCARD ALL";
  c.pgbouncer_server_idle_timeout = 55;
  c.pgbouncer_server_lifetime = 66;
  auto s = IniSettings(Render(c).ini);
  const std::map<std::string, std::string> kWant = {
      {"listen_port", "7432"},
      {"pool_mode", "session"},
      {"max_client_conn", "321"},
      {"default_pool_size", "7"},
      {"min_pool_size", "2"},
      {"reserve_pool_size", "3"},
      {"reserve_pool_timeout", "4"},
      {"server_reset_query", "DISCARD ALL"},
      {"server_idle_timeout", "55"},
      {"server_lifetime", "66"},
      {"auth_type", "hba"},
      {"auth_user", kPoolerAuthRole},
      {"stats_users", kPoolerStatsUser},
      {"auth_query", "SELECT usename, passwd FROM pgrt_pgbouncer.get_auth($1)"},
  };
  for (const auto& [k, v] : kWant) EXPECT_EQ(s[k], v) << k;
  EXPECT_EQ(s.count("admin_users"), 0u);
}

TEST(PgbouncerIni, DefaultsAreTheHaGuidesAndFilesLiveBesideTheSocketsNotInPgdata) {
  Config c;
  c.socket_dir = "/run/pg";
  auto s = IniSettings(Render(c).ini);
  EXPECT_EQ(s["pool_mode"], "transaction");
  EXPECT_EQ(s["max_client_conn"], "1000");
  EXPECT_EQ(s["default_pool_size"], "50");
  EXPECT_EQ(s["listen_port"], "6432");
  EXPECT_EQ(s["unix_socket_dir"], "/run/pg");
  PoolerPaths p = PoolerPaths::From(c);
  EXPECT_EQ(p.dir, "/run/pg/pgrt-pgbouncer-6432");
  for (const std::string* f : {&p.ini, &p.hba, &p.auth_file}) {
    EXPECT_EQ(f->rfind(p.dir + "/", 0), 0u) << *f;
    EXPECT_EQ(f->find(c.pgdata), std::string::npos) << *f;
  }
}

TEST(PgbouncerIni, ListensWherePostgresListens) {
  const std::pair<std::string, std::string> kCases[] = {
      {"*", "*"}, {"127.0.0.1", "127.0.0.1"}, {"127.0.0.1, ::1", "127.0.0.1,::1"}, {"", ""}};
  for (const auto& [postgres, pgbouncer] : kCases) {
    Config c;
    c.listen_addresses = postgres;
    EXPECT_EQ(IniSettings(Render(c).ini)["listen_addr"], pgbouncer) << postgres;
  }
}

TEST(PgbouncerIni, ListensOnLoopbackOnlyBehindItsDoorWhenTheNodeMaySleep) {
  // PGRT_IDLE_TIMEOUT: PgBouncer's door holds its port; the addresses postgres gets (the
  // client addresses with the handoff) are not PgBouncer's.
  Config c;
  c.idle_timeout_seconds = 60;
  c.listen_addresses = "*,127.0.0.4";
  EXPECT_EQ(IniSettings(Render(c).ini)["listen_addr"], "127.0.0.1");
}

TEST(PgbouncerIni, ServerConnectionsGoToPostgresSocketWithQuotesDoubled) {
  Config c;
  c.socket_dir = "/tmp/it's here";
  c.port = 5555;
  std::string ini = Render(c).ini;
  EXPECT_NE(ini.find("\n* = host='/tmp/it''s here' port=5555\n"), std::string::npos) << ini;
}

TEST(PgbouncerIni, TlsFollowsPostgres) {
  struct Case {
    std::string cert;
    bool required;
    std::string mode;  // "" = no TLS settings at all
  };
  const Case kCases[] = {
      {"", false, ""}, {"/tls/server.crt", false, "prefer"}, {"/tls/server.crt", true, "require"}};
  for (const Case& k : kCases) {
    Config c;
    c.tls_required = k.required;
    auto s = IniSettings(Render(c, k.cert).ini);
    EXPECT_EQ(s["client_tls_sslmode"], k.mode) << k.cert << k.required;
    EXPECT_EQ(s["client_tls_cert_file"], k.cert);
    if (!k.cert.empty()) {
      EXPECT_EQ(s["client_tls_key_file"], "/tls/server.key");
    }
  }
}

TEST(PgbouncerIni, RefusesValuesThatWouldBreakItsLines) {
  Config c;
  c.socket_dir = "/tmp/a\nauth_type = trust";
  PoolerFilesInput in{c, PoolerPaths::From(c), "", "", "", "x"};
  EXPECT_FALSE(RenderPoolerFiles(in).ok());
}

TEST(PgbouncerHba, ConsoleOnlyForPgrtOverTheSocketAndClientsWithPostgresMethod) {
  struct Case {
    const char* method;
    const char* tcp;     // pooled TCP clients
    const char* socket;  // pooled socket clients
  };
  // PgBouncer needs the SCRAM keys of a client's login to log in for it: `trust` clients
  // authenticate all the same.
  const Case kCases[] = {{"scram-sha-256", "scram-sha-256", "scram-sha-256"},
                         {"md5", "md5", "md5"},
                         {"trust", "scram-sha-256", "scram-sha-256"},
                         {"reject", "reject", "scram-sha-256"}};
  for (const Case& k : kCases) {
    SCOPED_TRACE(k.method);
    Config c;
    c.host_auth_method = k.method;
    auto lines = Lines(Render(c).hba);
    ASSERT_GE(lines.size(), 4u);
    // First match wins: the console account's line comes first, and only it is accepted.
    EXPECT_EQ(lines[0],
              (std::vector<std::string>{"local", "pgbouncer", kPoolerStatsUser, "scram-sha-256"}));
    for (const auto& l : lines) {
      bool console = l[1] == "pgbouncer";
      bool stats_user = l[2] == kPoolerStatsUser;
      if (&l == &lines[0]) continue;
      if (console || stats_user) {
        EXPECT_EQ(l.back(), "reject") << l[0] << " " << l[1];
      } else {
        EXPECT_EQ(l.back(), l[0] == "local" ? k.socket : k.tcp) << l[0];
      }
    }
  }
}

TEST(PgbouncerAuthFile, HoldsOnlyTheConsoleAccountsScramSecret) {
  Config c;
  auto secret = ScramSecret("a-password");
  ASSERT_TRUE(secret.ok());
  PoolerFilesInput in{c, PoolerPaths::From(c), "", "", "", *secret};
  auto f = RenderPoolerFiles(in);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->auth_file, "\"pgrt_stats\" \"" + *secret + "\"\n");
  EXPECT_EQ(f->auth_file.find("a-password"), std::string::npos);
}

TEST(ScramSecret, HasPostgresFormatAndAFreshSaltEachTime) {
  auto a = ScramSecret("pw");
  auto b = ScramSecret("pw");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->rfind("SCRAM-SHA-256$4096:", 0), 0u) << *a;
  // salt (16 bytes) $ StoredKey (32) : ServerKey (32), base64.
  size_t dollar = a->find('$', 19), colon = a->find(':', dollar);
  EXPECT_EQ(dollar - 19, 24u);
  EXPECT_EQ(colon - dollar - 1, 44u);
  EXPECT_EQ(a->size() - colon - 1, 44u);
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(ScramSecret("pässword").ok());
}

TEST(RandomHex, IsHexOfTheAskedLengthAndDiffers) {
  auto a = RandomHex(16), b = RandomHex(16);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_EQ(a->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(*a, *b);
}

TEST(PoolerAuthInPostgres, PeerLineComesFirstAndTheMapNamesTheRunAsAccount) {
  Config c;
  EXPECT_EQ(RenderHbaFile(c).find(kPoolerAuthRole), std::string::npos);
  c.pgbouncer_enabled = true;
  auto hba = Lines(RenderHbaFile(c));
  ASSERT_FALSE(hba.empty());
  EXPECT_EQ(hba[0], (std::vector<std::string>{"local", "all", kPoolerAuthRole, "peer",
                                              std::string("map=") + kPoolerAuthRole}));
  auto ident = Lines(RenderIdentFile(c, "postgres"));
  ASSERT_EQ(ident.size(), 1u);
  EXPECT_EQ(ident[0], (std::vector<std::string>{kPoolerAuthRole, "\"postgres\"", kPoolerAuthRole}));
}

}  // namespace
}  // namespace pgrt
