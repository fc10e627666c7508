#include "node/prepare.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>

#include "backup/backup_files.h"
#include "backup/pgbackrest.h"
#include "backup/restore.h"
#include "node/initialize.h"
#include "pgdata/data_dir.h"
#include "pgdata/owned_files.h"
#include "pgdata/role_file.h"
#include "replication/clone.h"
#include "replication/conninfo.h"
#include "replication/rewind.h"
#include "replication/standby_files.h"
#include "util/fs.h"

namespace pgrt {
namespace {

Status CheckMajorVersion(const NodeContext& ctx) {
  auto v = ReadFile(JoinPath(ctx.layout.pgdata, "PG_VERSION"));
  if (!v.ok()) return v.status();
  std::string data_major = v->substr(0, v->find('\n'));
  // The bindir of Debian's packages ends in /<major>/bin.
  const std::string& bin = ctx.config.pg_bindir;
  std::filesystem::path p(bin);
  if (p.filename().empty()) p = p.parent_path();
  std::string bin_major = p.filename() == "bin" ? p.parent_path().filename().string() : "";
  if (!bin_major.empty() && std::isdigit(static_cast<unsigned char>(bin_major[0])) &&
      bin_major != data_major)
    return Status::Error("PGDATA holds a PostgreSQL " + data_major + " cluster but " + bin +
                         " is PostgreSQL " + bin_major + "; upgrade it with pg_upgrade first");
  return Status::Ok();
}

// A new cluster: cloned from the primary for a replica, restored from a backup when asked,
// else initialized here.
Task<Status> Bootstrap(const TaskContext& tc, const NodeContext& ctx, const Topology& t,
                       Timings& timings, const Clock& clock, const StepReporter& step) {
  if (t.replica()) {
    if (!ctx.config.restore_from.empty())
      spdlog::warn("PGRT_RESTORE_FROM is ignored on a replica: it clones its primary");
    step(Mode::kCloning, "PGDATA is empty: cloning the primary " + t.upstream.host);
    co_return co_await CloneFromPrimary(tc, ctx, t.upstream, timings, clock);
  }
  if (ctx.config.restore_from == "pgbackrest") {
    step(Mode::kRestoring, "PGDATA is empty: restoring from the pgBackRest repository");
    co_return co_await RestoreFromPgBackRest(tc, ctx, timings, clock);
  }
  step(Mode::kInitializing, "PGDATA is empty: initializing a new cluster");
  co_return co_await InitializeCluster(tc, ctx, timings, clock);
}

// The role file as it is, a broken one reported and set aside (the configuration decides).
std::optional<RoleRecord> ReadRoleFileOrWarn(const NodeContext& ctx) {
  auto file = ReadRoleFile(ctx);
  if (file.ok()) return *file;
  spdlog::warn("{}; the role comes from the configuration", file.status().message());
  return std::nullopt;
}

}  // namespace

Status WriteManagedFiles(const NodeContext& ctx, const Topology& t) {
  const Config& c = ctx.config;
  OwnedFileInputs in;
  SetArchiveCommands(c, in);
  if (t.replica() && !t.waiting()) {
    in.primary_conninfo =
        PrimaryConninfo(c, t.upstream, ctx.layout.passfile, ReplicaApplicationName(c, NodeName(c)));
    in.primary_slot_name = t.upstream.slot;
  }
  return WriteOwnedFiles(ctx, in);
}

Status WriteTopologyFiles(const NodeContext& ctx, const Topology& t) {
  if (t.replica()) {
    PGRT_RETURN_IF_ERROR(WriteReplicaFiles(ctx, t.upstream), "replica");
  } else {
    // postgres removed standby.signal when it was promoted.
    PGRT_RETURN_IF_ERROR(RemoveIfPresent(ctx.layout.passfile), "leave standby mode");
  }
  PGRT_RETURN_IF_ERROR(WriteBackupFiles(ctx), "PGDATA");
  return WriteManagedFiles(ctx, t);
}

Task<Result<BootRole>> PrepareDataDirectory(const TaskContext& tc, const NodeContext& ctx,
                                            Timings& timings, const Clock& clock,
                                            const StepReporter& step,
                                            const std::optional<Topology>& cluster) {
  const NodeLayout& l = ctx.layout;
  // Decided before anything changes: created, or handed over (the top directory only) when
  // empty or holding a cluster, with the mode postgres demands; anything else is refused.
  PGRT_CO_RETURN_IF_ERROR(MakeOwnedDirectory(ctx, l.pgdata, 0700), "PGDATA");
  // postgres only creates its socket and lock file there: a shared directory such as a
  // sticky /tmp is used as it is.
  PGRT_CO_RETURN_IF_ERROR(MakeSharedDirectory(ctx, l.socket_dir, 0755), "PGRT_SOCKET_DIR");
  PGRT_CO_RETURN_IF_ERROR(WriteBackupFiles(ctx), "PGDATA");
  auto state = InspectDataDir(l);
  if (!state.ok()) co_return state.status();
  switch (*state) {
    case DataDirState::kForeign:
      co_return Status::Error("PGDATA " + l.pgdata +
                              " holds files but no PostgreSQL cluster (no PG_VERSION); pgrt does "
                              "not touch it: empty it or point PGDATA elsewhere");
    case DataDirState::kReadyToMove:
      spdlog::info("finishing an interrupted move of a new cluster into {}", l.pgdata);
      PGRT_CO_RETURN_IF_ERROR(MoveScratchIntoPlace(l), "PGDATA");
      break;
    case DataDirState::kEmpty: {
      // Named, not a conditional inside the co_await's expression (GCC 12: process/task.h).
      Topology first = ConfiguredTopology(ctx.config);
      if (cluster) first = *cluster;
      PGRT_CO_RETURN_IF_ERROR(co_await Bootstrap(tc, ctx, first, timings, clock, step), "PGDATA");
      break;
    }
    case DataDirState::kInitialized:
      spdlog::info("reusing the existing cluster in {}", l.pgdata);
      if (!ctx.config.restore_from.empty())
        spdlog::info("PGRT_RESTORE_FROM is ignored: PGDATA already holds a cluster");
      break;
  }
  PGRT_CO_RETURN_IF_ERROR(CheckMajorVersion(ctx), "PGDATA");
  BootRole boot;
  if (cluster)
    boot = ClusterBootRole(ctx.config, *cluster, ReadRoleFileOrWarn(ctx));
  else
    boot = ChooseBootRole(ctx.config, ReadRoleFileOrWarn(ctx));
  spdlog::info("role: {} ({})", boot.topology.Describe(), boot.why);
  if (boot.rewinding && boot.topology.waiting())
    co_return Status::Unavailable(
        "PGDATA may hold the remains of an interrupted pg_rewind and the cluster has no "
        "leader to clone from yet; pgrt exits so that it is started again later");
  if (boot.rewinding) {
    // pg_rewind was interrupted: the data may be half the old history, half the new one.
    if (!ctx.config.replica_reclone)
      co_return Status::Error(
          "PGDATA may hold the remains of an interrupted pg_rewind from " +
          boot.topology.upstream.host +
          "; set PGRT_REPLICA_RECLONE=true to move it aside and clone that primary again");
    spdlog::warn("an interrupted pg_rewind: moving the data aside to clone again");
    PGRT_CO_RETURN_IF_ERROR(MoveDataAside(ctx), "PGDATA");
  }
  Result<RoleFilesOutcome> role = RoleFilesOutcome::kNeedsClone;
  if (!boot.rewinding) role = co_await ApplyRoleFiles(tc, ctx, boot);
  if (!role.ok()) co_return role.status();
  if (*role == RoleFilesOutcome::kNeedsClone) {
    step(Mode::kCloning, "cloning the primary " + boot.topology.upstream.host + " again");
    PGRT_CO_RETURN_IF_ERROR(
        co_await CloneFromPrimary(tc, ctx, boot.topology.upstream, timings, clock), "PGDATA");
    // The fresh clone needs its role files too (the passfile primary_conninfo names).
    boot.rewind_needed = false;
    BootRole fresh{boot.topology, boot.why};
    role = co_await ApplyRoleFiles(tc, ctx, fresh);
    if (!role.ok()) co_return role.status();
    if (*role != RoleFilesOutcome::kReady)
      co_return Status::Error("PGDATA: the new clone of " + boot.topology.upstream.host +
                              " does not match it");
  }
  PGRT_CO_RETURN_IF_ERROR(WriteManagedFiles(ctx, boot.topology), "PGDATA");
  if (boot.record || boot.rewinding) {
    RoleRecord record = RecordOf(ctx, boot.topology, boot.why);
    record.rewind_needed = boot.rewind_needed;
    PGRT_CO_RETURN_IF_ERROR(WriteRoleFile(ctx, record), "PGDATA");
  }
  co_return std::move(boot);
}

}  // namespace pgrt
