// The files PgBouncer reads, rendered from the Config: pgbouncer.ini, its HBA file and its
// auth_file. Pure functions of their inputs, so they are unit-tested and rewriting them at
// every start or reload is idempotent.
//
// Authentication (docs/pooling-and-metrics.md): clients are checked with the method of
// POSTGRES_HOST_AUTH_METHOD against the secret postgres stores, fetched by PgBouncer's
// auth_query as the role kPoolerAuthRole, which logs in over the Unix socket by peer
// authentication (pg_hba.conf + pg_ident.conf map the run-as account to it). The auth_file
// holds one entry only: pgrt's console account, as a SCRAM secret.
#pragma once

#include <string>

#include "config/config.h"
#include "pgdata/settings.h"  // kPoolerAuthRole
#include "util/status.h"

namespace pgrt {

// pgrt's account on PgBouncer's admin console (SHOW POOLS for /metrics); not a database role.
inline constexpr const char* kPoolerStatsUser = "pgrt_stats";
// The schema and function kPoolerAuthRole calls in each database.
inline constexpr const char* kPoolerAuthFunction = "pgrt_pgbouncer.get_auth";

// Where PgBouncer's files live: a 0700 directory of the run-as account next to the sockets
// (a runtime place, never PGDATA, so base backups do not copy it).
struct PoolerPaths {
  std::string dir;
  std::string ini;
  std::string hba;
  std::string auth_file;

  static PoolerPaths From(const Config& c);
};

struct PoolerFilesInput {
  const Config& config;
  PoolerPaths paths;
  std::string tls_cert;  // postgres's copies (node layout); empty: no TLS
  std::string tls_key;
  std::string tls_ca;
  std::string stats_secret;  // SCRAM secret of kPoolerStatsUser
};

struct PoolerFiles {
  std::string ini;
  std::string hba;
  std::string auth_file;
};

// Fails only on values PgBouncer's line-based files cannot carry (a newline in a path).
Result<PoolerFiles> RenderPoolerFiles(const PoolerFilesInput& in);

// POSTGRES_LISTEN_ADDRESSES as PgBouncer's listen_addr: "*" stays, spaces go.
std::string PgbouncerListenAddr(const std::string& listen_addresses);

// A value in single quotes for a PgBouncer connection string ('' for a quote).
std::string ConnstringQuote(const std::string& value);

}  // namespace pgrt
