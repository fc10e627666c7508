#include "pooler/pgbouncer_files.h"

#include <sstream>

#include "pgdata/settings.h"
#include "util/fs.h"

namespace pgrt {
namespace {

void Set(std::ostringstream& out, const char* name, const std::string& value) {
  out << name << " = " << value << "\n";
}

void Set(std::ostringstream& out, const char* name, int value) {
  Set(out, name, std::to_string(value));
}

// PgBouncer reads ini values raw up to the end of the line.
bool FitsOnOneLine(const std::string& v) { return v.find_first_of("\r\n") == std::string::npos; }

std::string RenderIni(const PoolerFilesInput& in) {
  const Config& c = in.config;
  std::ostringstream out;
  out << "; Managed by pgrt: rewritten from its environment at every start and reload.\n"
         "[databases]\n"
         "; Every database, over postgres's Unix socket.\n"
      << "* = host=" << ConnstringQuote(c.socket_dir) << " port=" << c.port << "\n\n"
      << "[pgbouncer]\n";
  // A node that may sleep: PgBouncer is private, behind its door (runtime/sleeper.h); the
  // listen addresses postgres gets then are for postgres alone.
  Set(out, "listen_addr", c.idle_enabled() ? "127.0.0.1" : PgbouncerListenAddr(c.listen_addresses));
  Set(out, "listen_port", c.pgbouncer_port);
  Set(out, "unix_socket_dir", c.socket_dir);
  Set(out, "auth_type", "hba");
  Set(out, "auth_hba_file", in.paths.hba);
  Set(out, "auth_file", in.paths.auth_file);
  Set(out, "auth_user", kPoolerAuthRole);
  Set(out, "auth_query",
      std::string("SELECT usename, passwd FROM ") + kPoolerAuthFunction + "($1)");
  Set(out, "stats_users", kPoolerStatsUser);
  Set(out, "pool_mode", c.pgbouncer_pool_mode);
  Set(out, "max_client_conn", c.pgbouncer_max_client_conn);
  Set(out, "default_pool_size", c.pgbouncer_default_pool_size);
  Set(out, "min_pool_size", c.pgbouncer_min_pool_size);
  Set(out, "reserve_pool_size", c.pgbouncer_reserve_pool_size);
  Set(out, "reserve_pool_timeout", c.pgbouncer_reserve_pool_timeout);
  Set(out, "server_reset_query", c.pgbouncer_server_reset_query);
  Set(out, "server_idle_timeout", c.pgbouncer_server_idle_timeout);
  Set(out, "server_lifetime", c.pgbouncer_server_lifetime);
  // After a postgres restart (milliseconds) clients should not wait the default 15 s.
  Set(out, "server_login_retry", 1);
  // JDBC and others send it; PgBouncer refuses unknown startup parameters.
  Set(out, "ignore_startup_parameters", "extra_float_digits");
  // One line per connection would flood the log under `pgbench -C`-like loads.
  Set(out, "log_connections", 0);
  Set(out, "log_disconnections", 0);
  if (!in.tls_cert.empty()) {
    Set(out, "client_tls_sslmode", c.tls_required ? "require" : "prefer");
    Set(out, "client_tls_cert_file", in.tls_cert);
    Set(out, "client_tls_key_file", in.tls_key);
    if (!in.tls_ca.empty()) Set(out, "client_tls_ca_file", in.tls_ca);
  }
  return out.str();
}

std::string RenderHba(const Config& c) {
  // PgBouncer logs in to postgres over its socket on the client's behalf, which takes the
  // SCRAM keys of the client's own login: a client let in by `trust` could not be served,
  // so pooled connections always authenticate. The socket asks as postgres's does.
  const std::string local = SocketAuthMethod(c);
  const std::string m = c.host_auth_method == "trust" ? local : c.host_auth_method;
  std::ostringstream out;
  out << "# Managed by pgrt: rewritten from its environment at every start and reload.\n"
         "# pgrt's console account: the admin console, over the Unix socket, and nothing else.\n"
      << "local  pgbouncer  " << kPoolerStatsUser << "  scram-sha-256\n"
      << "local  all        " << kPoolerStatsUser << "  reject\n"
      << "host   all        " << kPoolerStatsUser << "  0.0.0.0/0  reject\n"
      << "host   all        " << kPoolerStatsUser << "  ::/0       reject\n"
      << "# Nobody else uses the console (admin_users is empty).\n"
         "local  pgbouncer  all  reject\n"
         "host   pgbouncer  all  0.0.0.0/0  reject\n"
         "host   pgbouncer  all  ::/0       reject\n"
         "# Clients: the method postgres uses, against the secret postgres stores.\n"
      << "local  all  all  " << local << "\n"
      << "host   all  all  0.0.0.0/0  " << m << "\n"
      << "host   all  all  ::/0       " << m << "\n";
  return out.str();
}

}  // namespace

PoolerPaths PoolerPaths::From(const Config& c) {
  PoolerPaths p;
  p.dir = JoinPath(c.socket_dir, "pgrt-pgbouncer-" + std::to_string(c.pgbouncer_port));
  p.ini = JoinPath(p.dir, "pgbouncer.ini");
  p.hba = JoinPath(p.dir, "pgbouncer_hba.conf");
  p.auth_file = JoinPath(p.dir, "userlist.txt");
  return p;
}

std::string PgbouncerListenAddr(const std::string& listen_addresses) {
  std::string out;
  for (char ch : listen_addresses)
    if (ch != ' ' && ch != '\t') out += ch;
  return out;
}

std::string ConnstringQuote(const std::string& value) {
  std::string out = "'";
  for (char ch : value) {
    if (ch == '\'') out += '\'';
    out += ch;
  }
  return out + "'";
}

Result<PoolerFiles> RenderPoolerFiles(const PoolerFilesInput& in) {
  const Config& c = in.config;
  for (const std::string* v : {&c.socket_dir, &c.listen_addresses, &in.paths.dir, &in.tls_cert,
                               &in.tls_key, &in.tls_ca, &c.pgbouncer_server_reset_query}) {
    if (!FitsOnOneLine(*v))
      return Status::Error("pgbouncer.ini: a value holds a line break: " + *v);
  }
  PoolerFiles f;
  f.ini = RenderIni(in);
  f.hba = RenderHba(c);
  f.auth_file = std::string("\"") + kPoolerStatsUser + "\" \"" + in.stats_secret + "\"\n";
  return f;
}

}  // namespace pgrt
