#include "replication/standby_files.h"

#include <spdlog/spdlog.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "replication/clone.h"
#include "replication/conninfo.h"
#include "replication/rewind.h"
#include "util/fs.h"

namespace pgrt {
namespace {

Result<RoleFilesOutcome> Refuse(const NodeContext& ctx, const std::string& why) {
  if (!ctx.config.replica_reclone)
    return Status::Error(why +
                         "; set PGRT_REPLICA_RECLONE=true to move this data aside and "
                         "clone the primary again");
  spdlog::warn("{}; moving the data aside to clone again (PGRT_REPLICA_RECLONE)", why);
  PGRT_RETURN_IF_ERROR(MoveDataAside(ctx), "re-clone");
  return RoleFilesOutcome::kNeedsClone;
}

}  // namespace

Status MoveDataAside(const NodeContext& ctx) {
  const std::string& pgdata = ctx.layout.pgdata;
  std::string stamp = TimestampForName();
  std::string aside = pgdata + ".broken-" + stamp;
  if (::rename(pgdata.c_str(), aside.c_str()) == 0) {
    spdlog::warn("moved {} aside to {}", pgdata, aside);
    return MakeOwnedDirectory(ctx, pgdata, 0700);
  }
  if (errno != EBUSY && errno != EXDEV && errno != EACCES && errno != EPERM)
    return ErrnoStatus("move " + pgdata + " aside");
  // A mount point cannot be renamed: keep the old entries inside it, out of the way.
  std::string inner = JoinPath(pgdata, ".pgrt-aside-" + stamp);
  PGRT_RETURN_IF_ERROR(MakeOwnedDirectory(ctx, inner, 0700), "move aside");
  auto entries = ListDirectory(pgdata);
  if (!entries.ok()) return entries.status();
  for (const auto& e : *entries) {
    if (e == "lost+found" || e.rfind(".pgrt-aside-", 0) == 0) continue;
    std::string from = JoinPath(pgdata, e), to = JoinPath(inner, e);
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("move " + from + " aside");
  }
  spdlog::warn("moved the contents of {} aside to {}", pgdata, inner);
  return Status::Ok();
}

Task<Result<RoleFilesOutcome>> ApplyRoleFiles(const TaskContext& tc, const NodeContext& ctx,
                                              const BootRole& boot) {
  const Config& c = ctx.config;
  const Topology& t = boot.topology;
  const NodeLayout& l = ctx.layout;
  if (!t.replica()) {
    if (PathExists(l.standby_signal)) {
      spdlog::info("{} mode on a former replica: removing standby.signal, keeping the data",
                   ToString(t.role));
      PGRT_CO_RETURN_IF_ERROR(RemoveIfPresent(l.standby_signal), "leave standby mode");
    }
    PGRT_CO_RETURN_IF_ERROR(RemoveIfPresent(l.passfile), "leave standby mode");
    co_return RoleFilesOutcome::kReady;
  }

  const Upstream& up = t.upstream;
  if (t.waiting()) {  // a standby until the cluster names a leader (PGRT_HA)
    PGRT_CO_RETURN_IF_ERROR(WriteReplicaFiles(ctx, up), "replica");
    co_return RoleFilesOutcome::kReady;
  }
  if (boot.promoted)
    co_return Refuse(ctx, "this node was promoted to primary and cannot follow " + up.host +
                              " without a new clone");
  auto local = LocalSystemIdentifier(l.pgdata);
  if (!local.ok()) co_return local.status().Wrap("replica");
  // Data that is not a standby yet (a former primary or standalone) becomes one only after
  // the primary confirmed it is the same cluster: wait for it rather than guess.
  bool was_standby = PathExists(l.standby_signal);
  if (!was_standby) PGRT_CO_RETURN_IF_ERROR(co_await WaitForPrimary(tc, ctx, up), "replica");
  // Off the loop's thread: a primary that accepts and never answers holds the connect.
  auto id = std::make_shared<std::optional<uint64_t>>();
  std::function<Status()> ask = [id, c = c, up]() {
    *id = PrimarySystemIdentifier(c, up);
    return Status::Ok();
  };
  Status asked = co_await OffThread(tc, std::move(ask), Millis(60000),
                                    "ask the primary for its cluster identity");
  if (tc.cancel.cancelled()) co_return asked;
  std::optional<uint64_t> primary;
  if (asked.ok()) primary = *id;
  if (!was_standby && !primary)
    co_return Status::Error(
        "replica: cannot read the primary's cluster identity to confirm "
        "PGDATA is its clone");
  if (primary && *primary != *local)
    co_return Refuse(ctx, "PGDATA holds cluster " + std::to_string(*local) + ", not a clone of " +
                              up.host + " (cluster " + std::to_string(*primary) + ")");
  if (!PathExists(l.standby_signal))
    spdlog::info("replica mode: writing standby.signal to follow {}:{}", up.host, up.port);
  PGRT_CO_RETURN_IF_ERROR(WriteReplicaFiles(ctx, up), "replica");
  co_return RoleFilesOutcome::kReady;
}

}  // namespace pgrt
