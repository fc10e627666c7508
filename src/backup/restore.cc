#include "backup/restore.h"

#include <spdlog/spdlog.h>

#include "backup/pgbackrest.h"
#include "backup/replay.h"
#include "pgdata/data_dir.h"
#include "pgdata/private_dir.h"
#include "process/command.h"
#include "util/fs.h"

namespace pgrt {
namespace {

// Removes the scratch directory unless the restore got as far as marking it complete:
// a half-restored cluster is worth nothing and may be large.
class ScratchGuard {
 public:
  explicit ScratchGuard(std::string path) : path_(std::move(path)) {}
  ~ScratchGuard() {
    if (!path_.empty() && !PathExists(JoinPath(path_, kInitCompleteMarker)))
      RemoveTree(path_).IgnoreError();  // a leftover is discarded by the next start anyway
  }
  ScratchGuard(const ScratchGuard&) = delete;
  ScratchGuard& operator=(const ScratchGuard&) = delete;

 private:
  std::string path_;
};

std::string TargetText(const Config& c) {
  if (!c.restore_target_time.empty()) return "PGRT_RESTORE_TARGET_TIME=" + c.restore_target_time;
  if (!c.restore_target_lsn.empty()) return "PGRT_RESTORE_TARGET_LSN=" + c.restore_target_lsn;
  if (!c.restore_target_xid.empty()) return "PGRT_RESTORE_TARGET_XID=" + c.restore_target_xid;
  return "the end of the archive";
}

Task<Status> RunPgBackRestRestore(const TaskContext& tc, const NodeContext& ctx,
                                  const std::string& scratch) {
  const Config& c = ctx.config;
  // At log level detail pgBackRest prints a line per file with the share of bytes restored
  // so far: the status's progress (it prints no byte counts while it works).
  std::vector<std::string> options = {"--pg1-path=" + scratch, "--log-level-console=detail"};
  for (auto& o : RestoreTargetOptions(c)) options.push_back(o);
  SpawnSpec spec;
  spec.name = "pgbackrest restore";
  spec.argv = PgBackRestArgv(c, "restore", options);
  spec.env = PgBackRestEnvironment(c, ctx.child_env);
  spec.run_as = ctx.run_as;
  std::string pending;  // output after the last line end
  std::function<void(std::string_view)> progress = [&ctx, &pending](std::string_view out) {
    pending.append(out);
    const size_t end = pending.rfind('\n');
    if (end == std::string::npos) return;
    if (auto reading = LastPgBackRestProgress(std::string_view(pending).substr(0, end)))
      ctx.ReportProgress("restore", reading);
    pending.erase(0, end + 1);
  };
  auto r = co_await RunCommand(tc, spec, /*capture=*/true, Millis(0), std::move(progress));
  ctx.ReportProgress("restore", std::nullopt);
  if (!r.ok()) co_return r.status();
  if (ExitedCleanly(r->wait_status)) co_return Status::Ok();
  std::string why =
      "pgbackrest restore " + DescribeWaitStatus(r->wait_status) + ": " + Tail(r->output);
  if (r->output.find("unable to find backup set") != std::string::npos)
    why +=
        " (the target must be at least a second after the end of a backup; "
        "PGBACKREST_SET names the backup to start from)";
  co_return Status::Error(why);
}

// pgrt's own files (pgrt.conf, pg_hba.conf, TLS copies) rendered into the scratch, so the
// replay runs with this node's settings (memory, connections) rather than the backed-up
// node's, which may not even fit this machine.
Status WriteManagedFilesInto(const NodeContext& ctx, const std::string& scratch) {
  Config at_scratch = ctx.config;
  at_scratch.pgdata = scratch;
  NodeContext scratch_ctx{at_scratch, NodeLayout::From(at_scratch), ctx.run_as, ctx.child_env};
  OwnedFileInputs in;
  SetArchiveCommands(at_scratch, in);
  return WriteOwnedFiles(scratch_ctx, in);
}

}  // namespace

Task<Status> RestoreFromPgBackRest(const TaskContext& tc, const NodeContext& ctx, Timings& timings,
                                   const Clock& clock) {
  const NodeLayout& l = ctx.layout;
  const Config& c = ctx.config;
  PGRT_CO_RETURN_IF_ERROR(PrepareScratch(ctx), "restore");
  ScratchGuard guard(l.init_scratch);
  auto priv = PrivateDir::Create(ctx);
  if (!priv.ok()) co_return priv.status().Wrap("restore");

  spdlog::info("restoring stanza {} into {} (up to {})", StanzaName(c), l.pgdata, TargetText(c));
  PGRT_CO_RETURN_IF_ERROR(co_await RunPgBackRestRestore(tc, ctx, l.init_scratch), "restore");
  timings.EndPhase("restore", clock.Now());

  PGRT_CO_RETURN_IF_ERROR(WriteManagedFilesInto(ctx, l.init_scratch), "restore");
  Status replay = co_await ReplayAndPromote(tc, ctx, l.init_scratch, priv->path());
  if (!replay.ok()) co_return replay.Wrap("restore: recovery up to " + TargetText(c));
  // No syncfs() here (unlike initdb --no-sync): pgBackRest syncs what it restores, postgres
  // synced the data directory when the replay started and its shutdown checkpoint the rest.
  timings.EndPhase("recover", clock.Now());

  PGRT_CO_RETURN_IF_ERROR(
      WriteOwnedFile(ctx, JoinPath(l.init_scratch, kInitCompleteMarker), "complete\n", 0600),
      "restore");
  PGRT_CO_RETURN_IF_ERROR(MoveScratchIntoPlace(l), "restore");
  spdlog::info("restored and promoted; continuing as a {} node", ToString(c.replication_mode));
  co_return Status::Ok();
}

}  // namespace pgrt
