#include "pgdata/owned_files.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "pgdata/memory.h"
#include "pgdata/settings.h"
#include "pgdata/tls_copies.h"
#include "util/fs.h"

namespace pgrt {
namespace {

// The configured files as they are now, made the current set of copies (pgdata/tls_copies.h).
Status CopyTlsFiles(const NodeContext& ctx, SettingsInput& in) {
  const Config& c = ctx.config;
  TlsCopyContent content;
  for (auto [from, to] :
       {std::pair{&c.tls_cert_file, &content.cert}, std::pair{&c.tls_key_file, &content.key},
        std::pair{&c.tls_ca_file, &content.ca}}) {
    if (from->empty()) continue;
    auto text = ReadFile(*from);
    if (!text.ok()) return text.status().Wrap("TLS file");
    *to = std::move(*text);
  }
  auto installed = InstallTlsCopies(ctx, content);
  if (!installed.ok()) return installed.status();
  in.tls_cert = TlsCertCopy(ctx.layout);
  in.tls_key = TlsKeyCopy(ctx.layout);
  if (!c.tls_ca_file.empty()) in.tls_ca = TlsCaCopy(ctx.layout);
  return Status::Ok();
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
  const uint64_t memory = c.idle_enabled() ? SleepingNodeMemoryBytes() : MemoryLimitBytes();
  SettingsInput in{c,    SizeMemory(memory, c.max_connections), ctx.layout.socket_dir, "", "", "",
                   false};
  if (!c.tls_cert_file.empty()) PGRT_RETURN_IF_ERROR(CopyTlsFiles(ctx, in), "TLS");
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
