#include "api/views.h"

#include <sys/statvfs.h>

#include <cmath>

#include "api/backup_view.h"
#include "backup/cron.h"

namespace pgrt {

nlohmann::json VolumeView(const std::string& path) {
  nlohmann::json v = {{"path", path}};
  struct statvfs fs {};
  if (::statvfs(path.c_str(), &fs) != 0) return v;
  uint64_t size = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  uint64_t available = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  uint64_t used = size - static_cast<uint64_t>(fs.f_bfree) * fs.f_frsize;
  double pct =
      size > 0 ? std::round(1000.0 * static_cast<double>(used) / static_cast<double>(size)) / 10.0
               : 0;
  v["size"] = size;
  v["used"] = used;
  v["available"] = available;
  v["usePercent"] = pct;
  return v;
}

nlohmann::json StatusView(ApiContext& ctx) {
  nlohmann::json j;
  j["ready"] = false;
  j["engine"] = "postgres";
  j["version"] = nullptr;
  j["uptime"] = nullptr;
  j["phase"] = ToString(ctx.state.phase());
  j["restarts"] = ctx.state.restarts();
  j["connections"] = {{"current", nullptr}, {"max", ctx.config.max_connections}};
  j["volumes"] = {{"data", VolumeView(ctx.config.pgdata)}};
  const Topology topology = ctx.state.topology();
  bool replication = topology.role != ReplicationMode::kStandalone;
  j["replication"] = {{"mode", ToString(topology.role)}, {"enabled", replication}};
  j["backup"] = BackupView(ctx);
  j["dump"] = DumpView(ctx);
  // The controller's last moves, oldest first.
  nlohmann::json moves = nlohmann::json::array();
  for (const NodeState::Move& m : ctx.state.transitions())
    moves.push_back({{"at", FormatUtc(m.at)}, {"from", m.from}, {"to", m.to}, {"why", m.why}});
  j["transitions"] = moves;
  std::string message = ctx.state.message();
  if (!message.empty()) j["message"] = message;
  if (!ctx.state.ready()) return j;
  // From the monitor's last observation: a status request never queries postgres.
  const Observation o = ctx.state.observation();
  if (o.role == PgRole::kUnknown) {
    j["error"] = "Database unavailable";
    return j;
  }
  j["ready"] = true;
  j["version"] = o.version;
  double uptime = std::chrono::duration<double>(ctx.clock.WallNow().time_since_epoch()).count() -
                  o.started_epoch;
  j["uptime"] = uptime < 0 ? 0 : uptime;
  j["connections"] = {{"current", o.connections}, {"max", o.max_connections}};
  j["replication"]["role"] = ToString(o.role);
  return j;
}

}  // namespace pgrt
