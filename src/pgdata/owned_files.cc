#include "pgdata/owned_files.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "pgdata/memory.h"
#include "pgdata/settings.h"
#include "util/fs.h"

namespace pgrt {
namespace {

Status CopyTlsFile(const NodeContext& ctx, const std::string& from, const std::string& name,
                   mode_t mode, std::string& to) {
  if (from.empty()) return Status::Ok();
  auto content = ReadFile(from);
  if (!content.ok()) return content.status().Wrap("TLS file");
  to = JoinPath(ctx.layout.tls_dir, name);
  // postgres refuses a key readable by others: the copy gets the mode it demands.
  return WriteOwnedFile(ctx, to, *content, mode);
}

Status EnsureIncludeLine(const NodeContext& ctx) {
  std::string conf = JoinPath(ctx.layout.pgdata, "postgresql.conf");
  auto text = ReadFile(conf);
  if (!text.ok()) return text.status();
  if (text->find(kIncludeLine) != std::string::npos) return Status::Ok();
  spdlog::info("adding \"{}\" to {}", kIncludeLine, conf);
  std::string updated = *text;
  if (!updated.empty() && updated.back() != '\n') updated += "\n";
  updated += "\n# Settings managed by pgrt (see pgrt.conf); keep this line last.\n";
  updated += std::string(kIncludeLine) + "\n";
  struct stat st {};
  mode_t mode = ::stat(conf.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0600;
  return WriteOwnedFile(ctx, conf, updated, mode);
}

// pg_stat_statements is preloaded unless postgresql.conf names the libraries itself (ALTER
// SYSTEM and `-c` are read after pgrt.conf and win anyway) or it is not installed.
bool PreloadStatements(const NodeContext& ctx) {
  auto conf = ReadFile(JoinPath(ctx.layout.pgdata, "postgresql.conf"));
  if (conf.ok() && SetsSharedPreloadLibraries(*conf)) return false;
  if (StatementsLibraryInstalled(ctx.config.pg_bindir)) return true;
  spdlog::info("pg_stat_statements is not installed next to {}: not preloaded",
               ctx.config.pg_bindir);
  return false;
}

}  // namespace

Status WriteOwnedFiles(const NodeContext& ctx, const OwnedFileInputs& inputs) {
  const Config& c = ctx.config;
  SettingsInput in{
      c,    SizeMemory(MemoryLimitBytes(), c.max_connections), ctx.layout.socket_dir, "", "", "",
      false};
  if (!c.tls_cert_file.empty()) {
    PGRT_RETURN_IF_ERROR(MakeOwnedDirectory(ctx, ctx.layout.tls_dir, 0700), "TLS");
    PGRT_RETURN_IF_ERROR(CopyTlsFile(ctx, c.tls_cert_file, "server.crt", 0644, in.tls_cert), "TLS");
    PGRT_RETURN_IF_ERROR(CopyTlsFile(ctx, c.tls_key_file, "server.key", 0600, in.tls_key), "TLS");
    PGRT_RETURN_IF_ERROR(CopyTlsFile(ctx, c.tls_ca_file, "ca.crt", 0644, in.tls_ca), "TLS");
  }
  in.archive_command = inputs.archive_command;
  in.restore_command = inputs.restore_command;
  in.primary_conninfo = inputs.primary_conninfo;
  in.primary_slot_name = inputs.primary_slot_name;
  PGRT_RETURN_IF_ERROR(EnsureIncludeLine(ctx), "settings");
  in.preload_statements = PreloadStatements(ctx);
  PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx, ctx.layout.include_file, RenderSettingsFile(in)),
                       "settings");
  PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx, ctx.layout.hba_file, RenderHbaFile(c)), "pg_hba.conf");
  if (c.pgbouncer_enabled)  // else the file stays the user's (no pg_hba.conf line uses a map)
    PGRT_RETURN_IF_ERROR(
        WriteOwnedFile(ctx, ctx.layout.ident_file, RenderIdentFile(c, ctx.run_as.name)),
        "pg_ident.conf");
  return Status::Ok();
}

}  // namespace pgrt
