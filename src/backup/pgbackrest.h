// How pgrt drives pgBackRest: where its files live, the config file it renders, and the
// command lines it runs. Pure functions of the Config (unit-tested); writing the files is
// in backup_files.h.
//
// pgrt owns a runtime directory outside PGDATA (so nothing of it is ever backed up):
// <PGRT_SOCKET_DIR>/pgrt-<port>/, 0700, of the run-as account. It holds
//   pgbackrest.conf  stanza, pg1-path/port/socket/user, lock path; no secret
//   pgpass           the superuser's password as a libpq passfile (0600), named by
//                    PGPASSFILE in pgBackRest's and pg_dump's environment: a path, never
//                    the password itself, on a command line or in an environment
//   lock/            pgBackRest's locks, per node (two nodes on one host never collide)
//   *.stdout/stderr  the output of the last job of each kind
// Every PGBACKREST_* variable the user gave reaches pgBackRest through its environment
// (pgBackRest reads them itself and they win over the file), whether pgrt runs it or
// postgres does (archive_command, restore_command).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "pgdata/owned_files.h"

namespace pgrt {

inline constexpr const char* kPgBackRestBin = "/usr/bin/pgbackrest";
inline constexpr const char* kDefaultStanza = "pgrt";

struct BackupPaths {
  std::string runtime_dir;
  std::string config_file;
  std::string passfile;
  std::string lock_dir;

  static BackupPaths From(const Config& c);
};

// PGBACKREST_STANZA when given, else "pgrt".
std::string StanzaName(const Config& c);

bool PgBackRestEnabled(const Config& c);   // PGRT_BACKUP=pgbackrest
bool RuntimeFilesNeeded(const Config& c);  // backups, a restore or dumps

// pgbackrest.conf: pgrt's defaults; PGBACKREST_* variables override any of them.
std::string RenderPgBackRestConfig(const Config& c);

// The superuser's passfile line for the local socket ("*:port:*:user:password").
std::string LocalPassfileLine(const Config& c);

// pgbackrest --config=... --stanza=... [options...] <command>
std::vector<std::string> PgBackRestArgv(const Config& c, const std::string& command,
                                        const std::vector<std::string>& options = {});

// For postgresql.conf. `pg_path` overrides pg1-path (a restore working in a scratch dir).
std::string ArchivePushCommand(const Config& c, const std::string& pg_path = "");
std::string ArchiveGetCommand(const Config& c, const std::string& pg_path = "");

// The environment of a pgBackRest child: `base` (scrubbed) plus every PGBACKREST_* variable
// and PGPASSFILE.
std::map<std::string, std::string> PgBackRestEnvironment(const Config& c,
                                                         std::map<std::string, std::string> base);

// Adds the PGBACKREST_* variables to postgres's own environment when archiving through
// pgBackRest: archive_command and restore_command run it as postgres's children.
void AddArchiveEnvironment(const Config& c, std::map<std::string, std::string>& env);

// With PGRT_BACKUP=pgbackrest: archive_command and restore_command run pgBackRest (over
// POSTGRES_ARCHIVE_*, with a warning when those are set; see docs/backups.md).
void SetArchiveCommands(const Config& c, OwnedFileInputs& in);

// --type/--target options of a restore, from PGRT_RESTORE_TARGET_*; empty: the latest.
std::vector<std::string> RestoreTargetOptions(const Config& c);

}  // namespace pgrt
