// The files pgrt owns in PGDATA, rendered from the Config: the settings include file
// (pgrt.conf) and pg_hba.conf. Pure functions of their inputs, so they are unit-tested
// and rewriting them at every start is idempotent.
#pragma once

#include <string>

#include "config/config.h"
#include "pgdata/memory.h"

namespace pgrt {

// The database role PgBouncer's auth_query runs as (no password): pg_hba.conf lets it in by
// peer over the socket, for the run-as account only (pooler/ sets the role up).
inline constexpr const char* kPoolerAuthRole = "pgrt_pgbouncer";

struct SettingsInput {
  const Config& config;
  MemorySettings memory;
  std::string socket_dir;
  std::string tls_cert;  // paths of the copies postgres reads; empty: no TLS
  std::string tls_key;
  std::string tls_ca;
  bool bootstrapping = false;  // first-boot: no synchronous standbys yet
  // Replica only: how to reach the primary, and the slot to stream from.
  std::string primary_conninfo;
  std::string primary_slot_name;
  // Archiving through pgBackRest (PGRT_BACKUP=pgbackrest): archive_mode=on with these
  // commands, in place of POSTGRES_ARCHIVE_MODE/_COMMAND and POSTGRES_RESTORE_COMMAND.
  std::string archive_command;
  std::string restore_command;
  // shared_preload_libraries = 'pg_stat_statements' (the status page's performance report),
  // unless the user's postgresql.conf sets the list itself (SetsSharedPreloadLibraries).
  bool preload_statements = false;
};

std::string RenderSettingsFile(const SettingsInput& in);
// pg_hba.conf. POSTGRES_HOST_AUTH_METHOD governs TCP connections (`host`/`hostssl`, loopback
// included), as the reference image's `host all all all $POSTGRES_HOST_AUTH_METHOD` does; the
// Unix socket always asks for a password (SocketAuthMethod), so neither `trust` opens the
// socket to every account on the host nor `reject` locks pgrt out of its own node.
// With PGRT_IDLE_TIMEOUT the client door (src/idle/) relays every client from loopback,
// connecting from one of these addresses so the lines still tell remote clients (and those
// allowed to replicate) from local ones.
std::string RenderHbaFile(const Config& config);
inline constexpr const char* kRelayLocalSource = "127.0.0.1";
inline constexpr const char* kRelayRemoteSource = "127.0.0.2";
inline constexpr const char* kRelayReplicationSource = "127.0.0.3";
inline constexpr const char* kRelayedRemoteCidr = "127.0.0.2/31";  // both remote sources
inline constexpr const char* kRelayedReplicationCidr = "127.0.0.3/32";
// With the handoff (src/idle/reuseport.h) postgres listens on the client port itself and also
// on this loopback address, which pgrt does not hold: the door relays the clients it held
// during a wake there, so they reach postgres and never pgrt's own listeners.
inline constexpr const char* kHandoffRelayTarget = "127.0.0.4";
// The method of the `local` lines: md5 when passwords are stored as MD5
// (POSTGRES_HOST_AUTH_METHOD=md5), else scram-sha-256.
std::string SocketAuthMethod(const Config& config);
// pg_ident.conf: with PgBouncer, the map that lets the run-as account `os_user` log in as
// PgBouncer's auth role by peer authentication (see src/pooler/).
std::string RenderIdentFile(const Config& config, const std::string& os_user);

// Whether postgresql.conf's text sets shared_preload_libraries on a line of its own (not
// in a comment). pgrt.conf is read after it, so pgrt's default must then stay out.
bool SetsSharedPreloadLibraries(const std::string& conf_text);

// Whether postgres can load pg_stat_statements: its library next to the binaries in
// `pg_bindir` (Debian's ../lib, or ../lib/postgresql).
bool StatementsLibraryInstalled(const std::string& pg_bindir);

// 'value' with quotes doubled and backslashes and control characters escaped, as
// postgresql.conf reads it back: any byte but NUL.
std::string ConfQuote(const std::string& value);

// The line postgresql.conf needs so pgrt.conf is read (after the user's own settings).
inline constexpr const char* kIncludeLine = "include_if_exists = 'pgrt.conf'";

}  // namespace pgrt
