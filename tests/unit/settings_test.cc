// The files pgrt renders into PGDATA: pgrt.conf (RenderSettingsFile) and pg_hba.conf.
#include "pgdata/settings.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "pgdata/memory.h"
#include "util/fs.h"

namespace pgrt {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

// name → raw value (still quoted) of every "name = value" line; duplicates fail the test.
std::map<std::string, std::string> ParseConf(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find(" = ");
    if (eq == std::string::npos) {
      ADD_FAILURE() << "not a setting: " << line;
      continue;
    }
    std::string name = line.substr(0, eq);
    EXPECT_EQ(out.count(name), 0u) << name << " is set twice";
    out[name] = line.substr(eq + 3);
  }
  return out;
}

std::map<std::string, std::string> Render(const SettingsInput& in) {
  return ParseConf(RenderSettingsFile(in));
}

SettingsInput Input(const Config& c) {
  return SettingsInput{.config = c,
                       .memory = SizeMemory(4 * kGiB, c.max_connections),
                       .socket_dir = "/run/pgrt-test"};
}

// ---------------------------------------------------------------------------------------
// pgrt.conf

TEST(RenderSettingsFile, CarriesTheNodesConnectionSettings) {
  Config c;
  c.port = 6543;
  c.listen_addresses = "127.0.0.1,198.51.100.3";
  c.max_connections = 42;
  auto s = Render(Input(c));
  EXPECT_EQ(s["port"], "'6543'");
  EXPECT_EQ(s["listen_addresses"], "'127.0.0.1,198.51.100.3'");
  EXPECT_EQ(s["max_connections"], "'42'");
  EXPECT_EQ(s["unix_socket_directories"], "'/run/pgrt-test'");
  EXPECT_EQ(s["logging_collector"], "'off'");
  EXPECT_EQ(s["log_destination"], "'stderr'");
}

TEST(RenderSettingsFile, PasswordEncryptionFollowsTheAuthMethod) {
  struct Case {
    std::string method;
    std::string encryption;
  };
  const Case kCases[] = {
      {"scram-sha-256", "'scram-sha-256'"},
      {"md5", "'md5'"},
      {"trust", "'scram-sha-256'"},
  };
  for (const Case& k : kCases) {
    SCOPED_TRACE(k.method);
    Config c;
    c.host_auth_method = k.method;
    EXPECT_EQ(Render(Input(c))["password_encryption"], k.encryption);
  }
}

TEST(RenderSettingsFile, MemoryComesFromTheSizingUnlessSharedBuffersIsGiven) {
  struct Case {
    std::string configured;
    std::string shared_buffers;
  };
  const Case kCases[] = {
      {"", "'1024MB'"},  // 25 % of 4 GiB
      {"2GB", "'2GB'"},
  };
  for (const Case& k : kCases) {
    SCOPED_TRACE(k.configured);
    Config c;
    c.max_connections = 100;
    c.shared_buffers = k.configured;
    auto s = Render(Input(c));
    EXPECT_EQ(s["shared_buffers"], k.shared_buffers);
    EXPECT_EQ(s["effective_cache_size"], "'3072MB'");
    EXPECT_EQ(s["maintenance_work_mem"], "'256MB'");
    EXPECT_EQ(s["work_mem"], "'7MB'");  // (4 GiB - 1 GiB) / (4 * 100)
  }
}

TEST(RenderSettingsFile, SslIsOnWithTheCopiedFilesOnlyWhenACertificateIsGiven) {
  struct Case {
    std::string cert, key, ca;
    std::map<std::string, std::string> expected;  // "" value: must be absent
  };
  const Case kCases[] = {
      {"",
       "",
       "",
       {{"ssl", "'off'"}, {"ssl_cert_file", ""}, {"ssl_key_file", ""}, {"ssl_ca_file", ""}}},
      {"/d/pgrt-tls/server.crt",
       "/d/pgrt-tls/server.key",
       "",
       {{"ssl", "'on'"},
        {"ssl_cert_file", "'/d/pgrt-tls/server.crt'"},
        {"ssl_key_file", "'/d/pgrt-tls/server.key'"},
        {"ssl_ca_file", ""}}},
      {"/d/pgrt-tls/server.crt",
       "/d/pgrt-tls/server.key",
       "/d/pgrt-tls/ca.crt",
       {{"ssl", "'on'"},
        {"ssl_cert_file", "'/d/pgrt-tls/server.crt'"},
        {"ssl_key_file", "'/d/pgrt-tls/server.key'"},
        {"ssl_ca_file", "'/d/pgrt-tls/ca.crt'"}}},
  };
  for (const Case& k : kCases) {
    SCOPED_TRACE("cert='" + k.cert + "' ca='" + k.ca + "'");
    Config c;
    SettingsInput in = Input(c);
    in.tls_cert = k.cert;
    in.tls_key = k.key;
    in.tls_ca = k.ca;
    auto s = Render(in);
    for (const auto& [name, value] : k.expected) {
      if (value.empty())
        EXPECT_EQ(s.count(name), 0u) << name << " = " << s[name];
      else
        EXPECT_EQ(s[name], value) << name;
    }
  }
}

TEST(RenderSettingsFile, SynchronousStandbyNamesIsEmptyWhileBootstrapping) {
  struct Case {
    bool bootstrapping;
    std::string expected;
  };
  const Case kCases[] = {
      {true, "''"},
      {false, "'ANY 1 (replica_a, replica_b)'"},
  };
  for (const Case& k : kCases) {
    SCOPED_TRACE(k.bootstrapping ? "bootstrapping" : "running");
    Config c;
    c.synchronous_standby_names = "ANY 1 (replica_a, replica_b)";
    SettingsInput in = Input(c);
    in.bootstrapping = k.bootstrapping;
    EXPECT_EQ(Render(in)["synchronous_standby_names"], k.expected);
  }
}

TEST(RenderSettingsFile, CarriesTheReplicationSettings) {
  Config c;
  c.wal_level = "logical";
  c.max_wal_senders = 7;
  c.max_replication_slots = 9;
  c.wal_keep_size = "2GB";
  c.hot_standby = false;
  c.hot_standby_feedback = true;
  c.synchronous_commit = "remote_apply";
  c.archive_mode = "on";
  c.recovery_target_timeline = "latest";
  auto s = Render(Input(c));
  EXPECT_EQ(s["wal_level"], "'logical'");
  EXPECT_EQ(s["max_wal_senders"], "'7'");
  EXPECT_EQ(s["max_replication_slots"], "'9'");
  EXPECT_EQ(s["wal_keep_size"], "'2GB'");
  EXPECT_EQ(s["hot_standby"], "'off'");
  EXPECT_EQ(s["hot_standby_feedback"], "'on'");
  EXPECT_EQ(s["synchronous_commit"], "'remote_apply'");
  EXPECT_EQ(s["archive_mode"], "'on'");
  EXPECT_EQ(s["recovery_target_timeline"], "'latest'");
}

TEST(RenderSettingsFile, OptionalCommandsAndPrimaryAppearOnlyWhenSet) {
  Config bare;
  auto s = Render(Input(bare));
  for (const char* name :
       {"archive_command", "restore_command", "primary_conninfo", "primary_slot_name"})
    EXPECT_EQ(s.count(name), 0u) << name << " rendered although unset";

  Config c;
  c.archive_command = "pgbackrest --stanza=main archive-push %p";
  c.restore_command = "pgbackrest --stanza=main archive-get %f \"%p\"";
  SettingsInput in = Input(c);
  in.primary_conninfo = "host=primary port=5432 user=replicator passfile=/d/pgpass";
  in.primary_slot_name = "replica_slot";
  s = Render(in);
  EXPECT_EQ(s["archive_command"], "'pgbackrest --stanza=main archive-push %p'");
  EXPECT_EQ(s["restore_command"], "'pgbackrest --stanza=main archive-get %f \"%p\"'");
  EXPECT_EQ(s["primary_conninfo"], "'host=primary port=5432 user=replicator passfile=/d/pgpass'");
  EXPECT_EQ(s["primary_slot_name"], "'replica_slot'");
}

TEST(RenderSettingsFile, QuotesInValuesAreEscaped) {
  Config c;
  c.archive_command = "test ! -f '/archive/%f' && cp %p '/archive/%f'";
  c.synchronous_standby_names = "\"O'Brien\"";
  auto s = Render(Input(c));
  EXPECT_EQ(s["archive_command"], "'test ! -f ''/archive/%f'' && cp %p ''/archive/%f'''");
  EXPECT_EQ(s["synchronous_standby_names"], "'\"O''Brien\"'");
}

TEST(ConfQuote, DoublesQuotesAndBackslashes) {
  struct Case {
    std::string in;
    std::string out;
  };
  const Case kCases[] = {
      {"", "''"},
      {"plain", "'plain'"},
      {"O'Brien", "'O''Brien'"},
      {"''", "''''''"},
      {"C:\\pg", "'C:\\\\pg'"},
      {"\\'", "'\\\\'''"},  // a backslash cannot escape the closing quote
  };
  for (const Case& k : kCases) {
    SCOPED_TRACE(k.in);
    EXPECT_EQ(ConfQuote(k.in), k.out);
  }
}

TEST(RenderSettingsFile, IsAPureFunctionOfItsInput) {
  Config c;
  c.port = 7000;
  EXPECT_EQ(RenderSettingsFile(Input(c)), RenderSettingsFile(Input(c)));
}

// ---------------------------------------------------------------------------------------
// pg_hba.conf

struct HbaLine {
  std::vector<std::string> fields;
  const std::string& type() const { return fields.front(); }
  const std::string& database() const { return fields[1]; }
  const std::string& method() const { return fields.back(); }
  // "" for local lines.
  std::string address() const { return fields.size() == 5 ? fields[3] : ""; }
};

std::vector<HbaLine> ParseHba(const std::string& text) {
  std::vector<HbaLine> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    HbaLine l;
    for (std::string f; fields >> f;) l.fields.push_back(f);
    size_t expected = l.fields.front() == "local" ? 4 : 5;
    EXPECT_EQ(l.fields.size(), expected) << "malformed line: " << line;
    if (l.fields.size() == expected) lines.push_back(l);
  }
  return lines;
}

bool IsLoopback(const std::string& address) {
  return address == "127.0.0.1/32" || address == "::1/128";
}

TEST(RenderHbaFile, TheHostAuthMethodGovernsTcpLinesAndTheSocketAlwaysAsksForAPassword) {
  struct Case {
    const char* method;
    const char* socket;  // what the `local` lines ask
  };
  const Case kCases[] = {{"scram-sha-256", "scram-sha-256"},
                         {"md5", "md5"},  // passwords are stored as MD5 then
                         {"password", "scram-sha-256"},
                         {"trust", "scram-sha-256"},
                         {"reject", "scram-sha-256"}};
  for (const Case& k : kCases) {
    SCOPED_TRACE(k.method);
    Config c;
    c.host_auth_method = k.method;
    c.replication_allowed_networks = {"198.51.100.0/24"};
    auto lines = ParseHba(RenderHbaFile(c));
    ASSERT_FALSE(lines.empty());
    int local = 0, tcp = 0;
    for (const HbaLine& l : lines) {
      if (l.type() == "local") {
        ++local;
        EXPECT_EQ(l.method(), k.socket) << l.database();
      } else {
        ++tcp;  // loopback included, as in the reference image's `host all all all`
        EXPECT_EQ(l.method(), k.method) << l.type() << " " << l.address();
      }
    }
    EXPECT_EQ(local, 2);
    EXPECT_EQ(tcp, 6);
    EXPECT_EQ(SocketAuthMethod(c), k.socket);
  }
}

TEST(RenderHbaFile, RequiredTlsMakesRemoteLinesHostsslWhileLoopbackStaysHost) {
  struct Case {
    bool tls_required;
    std::string remote_type;
  };
  const Case kCases[] = {{false, "host"}, {true, "hostssl"}};
  for (const Case& k : kCases) {
    SCOPED_TRACE(k.remote_type);
    Config c;
    c.tls_required = k.tls_required;
    c.replication_allowed_networks = {"198.51.100.0/24"};
    int remote = 0, loopback = 0, local = 0;
    for (const HbaLine& l : ParseHba(RenderHbaFile(c))) {
      if (l.type() == "local") {
        ++local;
      } else if (IsLoopback(l.address())) {
        ++loopback;
        EXPECT_EQ(l.type(), "host") << l.address();
      } else {
        ++remote;
        EXPECT_EQ(l.type(), k.remote_type) << l.address();
      }
    }
    EXPECT_EQ(local, 2);     // all + replication over the socket
    EXPECT_EQ(loopback, 4);  // all + replication, IPv4 + IPv6
    EXPECT_EQ(remote, 2);    // the replication network + the catch-all
  }
}

TEST(RenderHbaFile, DoorRelayedClientsKeepTheRemoteRulesAndDirectClientsGetTheUsualOnes) {
  // PGRT_IDLE_TIMEOUT: the door relays from 127.0.0.2 for remote clients and from 127.0.0.3
  // for those allowed to replicate; with the handoff the other clients reach postgres
  // directly, from their own addresses, and meet the usual lines.
  Config c;
  c.idle_timeout_seconds = 60;
  c.tls_required = true;
  c.replication_allowed_networks = {"198.51.100.0/24"};
  std::vector<std::string> remote;
  for (const HbaLine& l : ParseHba(RenderHbaFile(c))) {
    if (l.type() == "local" || l.address() == "127.0.0.1/32" || l.address() == "::1/128") continue;
    remote.push_back(l.type() + " " + l.database() + " " + l.address() + " " + l.method());
  }
  EXPECT_EQ(remote, (std::vector<std::string>{
                        "hostssl replication 127.0.0.3/32 scram-sha-256",
                        "host replication 127.0.0.2/32 reject",
                        "hostssl all 127.0.0.2/31 scram-sha-256",
                        "hostssl replication 198.51.100.0/24 scram-sha-256",
                        "hostssl all all scram-sha-256",
                    }));
  // Without replication networks, no relayed client may replicate.
  c.replication_allowed_networks.clear();
  for (const HbaLine& l : ParseHba(RenderHbaFile(c)))
    EXPECT_FALSE(l.database() == "replication" && l.address() == "127.0.0.3/32");
}

TEST(RenderHbaFile, AllowsReplicationFromEachConfiguredNetworkOnly) {
  struct Case {
    std::vector<std::string> networks;
  };
  const Case kCases[] = {
      {{}},
      {{"0.0.0.0/0"}},
      {{"198.51.100.0/24", "203.0.113.0/24", "fd00::/8"}},
  };
  for (const Case& k : kCases) {
    SCOPED_TRACE(k.networks.size());
    Config c;
    c.replication_allowed_networks = k.networks;
    std::vector<std::string> remote_replication;
    for (const HbaLine& l : ParseHba(RenderHbaFile(c))) {
      if (l.database() == "replication" && l.type() != "local" && !IsLoopback(l.address()))
        remote_replication.push_back(l.address());
    }
    EXPECT_EQ(remote_replication, k.networks);
  }
}

TEST(RenderHbaFile, TheCatchAllLineComesLast) {
  // pg_hba.conf is first-match: anything after "all all all" would never apply.
  Config c;
  c.replication_allowed_networks = {"198.51.100.0/24"};
  auto lines = ParseHba(RenderHbaFile(c));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().database(), "all");
  EXPECT_EQ(lines.back().address(), "all");
  for (size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_NE(lines[i].address(), "all") << i;
}

}  // namespace
}  // namespace pgrt

namespace pgrt {
namespace {

TEST(SharedPreloadLibraries, AnActiveLineOfPostgresqlConfCountsAndACommentDoesNot) {
  EXPECT_FALSE(
      SetsSharedPreloadLibraries("#shared_preload_libraries = ''\t# (change requires restart)\n"));
  EXPECT_FALSE(SetsSharedPreloadLibraries("shared_buffers = 128MB\n"));
  EXPECT_FALSE(SetsSharedPreloadLibraries("shared_preload_libraries_x = 1\n"));
  EXPECT_TRUE(SetsSharedPreloadLibraries("a = 1\n  shared_preload_libraries = 'auto_explain'\n"));
  EXPECT_TRUE(SetsSharedPreloadLibraries("Shared_Preload_Libraries='timescaledb'"));
  EXPECT_TRUE(SetsSharedPreloadLibraries("shared_preload_libraries ''"));
}

TEST(SharedPreloadLibraries, PgStatStatementsIsPreloadedOnlyWhenAsked) {
  Config c;
  SettingsInput in = Input(c);
  EXPECT_EQ(Render(in).count("shared_preload_libraries"), 0u);
  in.preload_statements = true;
  EXPECT_EQ(Render(in)["shared_preload_libraries"], "'pg_stat_statements'");
}

TEST(SharedPreloadLibraries, TheLibraryIsLookedForNextToTheBinaries) {
  EXPECT_EQ(PathExists("/usr/lib/postgresql/15/lib/pg_stat_statements.so"),
            StatementsLibraryInstalled("/usr/lib/postgresql/15/bin"));
  EXPECT_FALSE(StatementsLibraryInstalled("/nonexistent/bin"));
}

}  // namespace
}  // namespace pgrt
