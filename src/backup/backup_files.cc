#include "backup/backup_files.h"

#include "backup/pgbackrest.h"
#include "util/fs.h"

namespace pgrt {
namespace {

std::string PgBackRestVar(const Config& c, const std::string& name) {
  auto it = c.pgbackrest_env.find(name);
  return it == c.pgbackrest_env.end() ? "" : it->second;
}

}  // namespace

Status WriteBackupFiles(const NodeContext& ctx) {
  const Config& c = ctx.config;
  if (!RuntimeFilesNeeded(c)) return Status::Ok();
  const BackupPaths p = BackupPaths::From(c);
  PGRT_RETURN_IF_ERROR(MakeOwnedDirectory(ctx, p.runtime_dir, 0700), "backup files");
  PGRT_RETURN_IF_ERROR(MakeOwnedDirectory(ctx, p.lock_dir, 0700), "backup files");
  PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx, p.config_file, RenderPgBackRestConfig(c), 0600),
                       "backup files");
  PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx, p.passfile, LocalPassfileLine(c), 0600), "backup files");
  const std::string repo_type = PgBackRestVar(c, "PGBACKREST_REPO1_TYPE");
  const std::string repo_path = PgBackRestVar(c, "PGBACKREST_REPO1_PATH");
  if ((repo_type.empty() || repo_type == "posix") && !repo_path.empty() && repo_path[0] == '/' &&
      !PathExists(repo_path))
    PGRT_RETURN_IF_ERROR(MakeOwnedDirectory(ctx, repo_path, 0700), "pgBackRest repository");
  if (!c.dump_dir.empty())
    // Created when missing, handed over when empty (a volume mounted by root), else used as
    // it is when the run-as account can write there, or refused: never chowned with content.
    PGRT_RETURN_IF_ERROR(MakeSharedDirectory(ctx, c.dump_dir, 0700), "PGRT_DUMP_DIR");
  return Status::Ok();
}

}  // namespace pgrt
