#include "backup/pgbackrest.h"

#include <spdlog/spdlog.h>

#include <sstream>

#include "pg/passfile.h"
#include "util/fs.h"

namespace pgrt {
namespace {

// A word for a shell command line (archive_command runs through /bin/sh).
std::string ShellWord(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-./=:,+@") == std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A command line for archive_command/restore_command: shell words, with postgres's own
// escape for a literal % (it would otherwise read %p, %f... in a path).
std::string CommandLine(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + ShellWord(a);
  std::string escaped;
  for (char c : out) escaped += c == '%' ? std::string("%%") : std::string(1, c);
  return escaped;
}

}  // namespace

BackupPaths BackupPaths::From(const Config& c) {
  BackupPaths p;
  p.runtime_dir = JoinPath(c.socket_dir, "pgrt-" + std::to_string(c.port));
  p.config_file = JoinPath(p.runtime_dir, "pgbackrest.conf");
  p.passfile = JoinPath(p.runtime_dir, "pgpass");
  p.lock_dir = JoinPath(p.runtime_dir, "lock");
  return p;
}

std::string StanzaName(const Config& c) {
  auto it = c.pgbackrest_env.find("PGBACKREST_STANZA");
  return it == c.pgbackrest_env.end() || it->second.empty() ? kDefaultStanza : it->second;
}

bool PgBackRestEnabled(const Config& c) { return c.backup == "pgbackrest"; }

bool RuntimeFilesNeeded(const Config& c) {
  return PgBackRestEnabled(c) || c.restore_from == "pgbackrest" || !c.dump_dir.empty();
}

std::string RenderPgBackRestConfig(const Config& c) {
  const BackupPaths p = BackupPaths::From(c);
  std::ostringstream out;
  out << "# Managed by pgrt: rewritten at every start. PGBACKREST_* variables override it.\n"
         "[global]\n"
         // Output goes to pgrt (and its log); no log file to keep writable.
         "log-level-file=off\n"
         "lock-path="
      << p.lock_dir
      << "\n"
         // Backups start with an immediate checkpoint instead of waiting for the next one.
         "start-fast=y\n"
         "\n["
      << StanzaName(c)
      << "]\n"
         "pg1-path="
      << c.pgdata
      << "\n"
         "pg1-port="
      << c.port
      << "\n"
         "pg1-socket-path="
      << c.socket_dir
      << "\n"
         "pg1-user="
      << c.user << "\n";
  return out.str();
}

std::string LocalPassfileLine(const Config& c) {
  return "*:" + std::to_string(c.port) + ":*:" + PassfileField(c.user) + ":" +
         PassfileField(c.password) + "\n";
}

std::vector<std::string> PgBackRestArgv(const Config& c, const std::string& command,
                                        const std::vector<std::string>& options) {
  std::vector<std::string> argv = {kPgBackRestBin, "--config=" + BackupPaths::From(c).config_file,
                                   "--stanza=" + StanzaName(c)};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(command);
  return argv;
}

std::string ArchivePushCommand(const Config& c, const std::string& pg_path) {
  std::vector<std::string> options;
  if (!pg_path.empty()) options.push_back("--pg1-path=" + pg_path);
  return CommandLine(PgBackRestArgv(c, "archive-push", options)) + " %p";
}

std::string ArchiveGetCommand(const Config& c, const std::string& pg_path) {
  std::vector<std::string> options;
  if (!pg_path.empty()) options.push_back("--pg1-path=" + pg_path);
  return CommandLine(PgBackRestArgv(c, "archive-get", options)) + " %f \"%p\"";
}

std::map<std::string, std::string> PgBackRestEnvironment(const Config& c,
                                                         std::map<std::string, std::string> base) {
  for (const auto& [k, v] : c.pgbackrest_env) base[k] = v;
  base["PGPASSFILE"] = BackupPaths::From(c).passfile;
  return base;
}

void SetArchiveCommands(const Config& c, OwnedFileInputs& in) {
  if (!PgBackRestEnabled(c)) return;
  if (c.archive_mode != "off" || !c.archive_command.empty() || !c.restore_command.empty())
    spdlog::warn(
        "PGRT_BACKUP=pgbackrest sets archive_mode, archive_command and "
        "restore_command; POSTGRES_ARCHIVE_*/POSTGRES_RESTORE_COMMAND are ignored");
  in.archive_command = ArchivePushCommand(c);
  in.restore_command = ArchiveGetCommand(c);
}

void AddArchiveEnvironment(const Config& c, std::map<std::string, std::string>& env) {
  if (!PgBackRestEnabled(c) && c.restore_from != "pgbackrest") return;
  for (const auto& [k, v] : c.pgbackrest_env) env[k] = v;
}

std::vector<std::string> RestoreTargetOptions(const Config& c) {
  std::vector<std::string> o;
  if (!c.restore_target_time.empty()) o = {"--type=time", "--target=" + c.restore_target_time};
  if (!c.restore_target_lsn.empty()) o = {"--type=lsn", "--target=" + c.restore_target_lsn};
  if (!c.restore_target_xid.empty()) o = {"--type=xid", "--target=" + c.restore_target_xid};
  // Stop at the target and open for writes; the default ("pause") would leave a node that
  // is neither recovering nor writable.
  if (!o.empty()) o.push_back("--target-action=promote");
  return o;
}

}  // namespace pgrt
