#include "pgdata/settings.h"

#include <cctype>
#include <sstream>

#include "util/fs.h"

namespace pgrt {
namespace {

void Set(std::ostringstream& out, const char* name, const std::string& value) {
  out << name << " = " << ConfQuote(value) << "\n";
}

std::string Bool(bool b) { return b ? "on" : "off"; }

// postgresql.conf's octal escape, which its reader turns back into the byte.
std::string ConfOctal(unsigned char u) {
  std::string out = "\\000";
  out[1] = static_cast<char>('0' + (u >> 6));
  out[2] = static_cast<char>('0' + ((u >> 3) & 7));
  out[3] = static_cast<char>('0' + (u & 7));
  return out;
}

}  // namespace

std::string ConfQuote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\'')
      out += "''";
    else if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";  // a raw line break would end the setting's line
    else if (c == '\r')
      out += "\\r";
    else if (u < 0x20 || u == 0x7f)
      out += ConfOctal(u);
    else
      out += c;
  }
  return out + "'";
}

std::string RenderSettingsFile(const SettingsInput& in) {
  const Config& c = in.config;
  std::ostringstream out;
  out << "# Managed by pgrt: rewritten at every start from its environment.\n"
         "# Your own settings belong in postgresql.conf or ALTER SYSTEM (which wins over this).\n";
  Set(out, "listen_addresses", c.listen_addresses);
  Set(out, "port", std::to_string(c.port));
  Set(out, "max_connections", std::to_string(c.max_connections));
  Set(out, "unix_socket_directories", in.socket_dir);
  Set(out, "password_encryption", SocketAuthMethod(c));
  Set(out, "shared_buffers",
      c.shared_buffers.empty() ? in.memory.shared_buffers : c.shared_buffers);
  Set(out, "effective_cache_size", in.memory.effective_cache_size);
  Set(out, "maintenance_work_mem", in.memory.maintenance_work_mem);
  Set(out, "work_mem", in.memory.work_mem);
  // Logs go to pgrt's stderr: the container's log stream.
  Set(out, "logging_collector", "off");
  Set(out, "log_destination", "stderr");
  // PgBouncer's auth role logs in through the map pgrt writes there.
  if (c.pgbouncer_enabled) Set(out, "ident_file", JoinPath(c.pgdata, "pg_ident.conf"));
  // The status page's top statements; the user's own list wins (see preload_statements).
  if (in.preload_statements) Set(out, "shared_preload_libraries", "pg_stat_statements");
  // Before crash recovery postgres fsyncs every file of PGDATA, one by one (≈ 1.8 s for a
  // new cluster here); one syncfs() of its file system gives the same guarantee at once.
  Set(out, "recovery_init_sync_method", "syncfs");

  if (!in.tls_cert.empty()) {
    Set(out, "ssl", "on");
    Set(out, "ssl_cert_file", in.tls_cert);
    Set(out, "ssl_key_file", in.tls_key);
    if (!in.tls_ca.empty()) Set(out, "ssl_ca_file", in.tls_ca);
  } else {
    Set(out, "ssl", "off");
  }

  out << "# replication\n";
  Set(out, "wal_level", c.wal_level);
  // pg_rewind needs it (or data checksums) to rejoin a former primary under a new one; set
  // on every node, so clusters made by any version can be rewound after their next start.
  Set(out, "wal_log_hints", "on");
  Set(out, "max_wal_senders", std::to_string(c.max_wal_senders));
  Set(out, "max_replication_slots", std::to_string(c.max_replication_slots));
  Set(out, "wal_keep_size", c.wal_keep_size);
  Set(out, "hot_standby", Bool(c.hot_standby));
  Set(out, "hot_standby_feedback", Bool(c.hot_standby_feedback));
  Set(out, "synchronous_commit", c.synchronous_commit);
  // During first boot no standby exists yet: a synchronous commit would wait forever.
  Set(out, "synchronous_standby_names", in.bootstrapping ? "" : c.synchronous_standby_names);
  if (!in.archive_command.empty()) {
    Set(out, "archive_mode", "on");
    Set(out, "archive_command", in.archive_command);
    Set(out, "restore_command", in.restore_command);
  } else {
    Set(out, "archive_mode", c.archive_mode);
    if (!c.archive_command.empty()) Set(out, "archive_command", c.archive_command);
    if (!c.restore_command.empty()) Set(out, "restore_command", c.restore_command);
  }
  Set(out, "recovery_target_timeline", c.recovery_target_timeline);
  if (!in.primary_conninfo.empty()) {
    Set(out, "primary_conninfo", in.primary_conninfo);
    Set(out, "primary_slot_name", in.primary_slot_name);
  }
  return out.str();
}

bool SetsSharedPreloadLibraries(const std::string& conf_text) {
  std::istringstream lines(conf_text);
  std::string line;
  const std::string name = "shared_preload_libraries";
  while (std::getline(lines, line)) {
    size_t i = line.find_first_not_of(" \t");
    if (i == std::string::npos || line.size() - i < name.size()) continue;
    bool same = true;
    for (size_t k = 0; k < name.size() && same; ++k)  // names are case-insensitive
      same = std::tolower(static_cast<unsigned char>(line[i + k])) == name[k];
    if (!same) continue;
    const size_t after = i + name.size();
    if (after == line.size() || line[after] == ' ' || line[after] == '\t' || line[after] == '=')
      return true;
  }
  return false;
}

bool StatementsLibraryInstalled(const std::string& pg_bindir) {
  for (const char* dir : {"/../lib/", "/../lib/postgresql/"})
    if (PathExists(pg_bindir + dir + "pg_stat_statements.so")) return true;
  return false;
}

std::string SocketAuthMethod(const Config& c) {
  return c.host_auth_method == "md5" ? "md5" : "scram-sha-256";  // as password_encryption
}

std::string RenderHbaFile(const Config& c) {
  const std::string& m = c.host_auth_method;
  const std::string local = SocketAuthMethod(c);
  const std::string remote = c.tls_required ? "hostssl" : "host";
  std::ostringstream out;
  out << "# Managed by pgrt: rewritten at every start from its environment.\n"
         "# TYPE     DATABASE     USER  ADDRESS          METHOD\n";
  // PgBouncer's auth_query role: peer over the socket, for the run-as account only (the
  // map in pg_ident.conf); it has no password, so no other line lets it in.
  if (c.pgbouncer_enabled)
    out << "local      all          " << kPoolerAuthRole << "         peer map=" << kPoolerAuthRole
        << "\n";
  out << "local      all          all                    " << local << "\n";
  out << "host       all          all   127.0.0.1/32     " << m << "\n";
  out << "host       all          all   ::1/128          " << m << "\n";
  out << "local      replication  all                    " << local << "\n";
  out << "host       replication  all   127.0.0.1/32     " << m << "\n";
  out << "host       replication  all   ::1/128          " << m << "\n";
  const std::string pad(11 - remote.size(), ' ');
  if (c.idle_enabled()) {
    // Clients relayed by the client door (src/idle/) arrive from loopback; the door
    // connects from 127.0.0.2 for a remote client and from 127.0.0.3 for one inside
    // POSTGRES_REPLICATION_ALLOWED_NETWORKS, so these lines keep the rules below. A remote
    // client outside those networks never replicates, whatever the networks below hold.
    // The lines below serve the clients that reach postgres directly (the handoff).
    if (!c.replication_allowed_networks.empty())
      out << remote << pad << "replication  all   " << kRelayedReplicationCidr << "     " << m
          << "\n";
    out << "host       replication  all   " << kRelayRemoteSource << "/32     reject\n";
    out << remote << pad << "all          all   " << kRelayedRemoteCidr << "     " << m << "\n";
  }
  // Only roles with the REPLICATION attribute can use these lines.
  for (const auto& cidr : c.replication_allowed_networks)
    out << remote << pad << "replication  all   " << cidr << "  " << m << "\n";
  out << remote << pad << "all          all   all              " << m << "\n";
  return out.str();
}

std::string RenderIdentFile(const Config& c, const std::string& os_user) {
  std::string out =
      "# Managed by pgrt while PGBOUNCER_ENABLED=true: rewritten at every start.\n"
      "# MAPNAME         SYSTEM-USERNAME  PG-USERNAME\n";
  if (c.pgbouncer_enabled)
    out += std::string(kPoolerAuthRole) + "  \"" + os_user + "\"  " + kPoolerAuthRole + "\n";
  return out;
}

}  // namespace pgrt
