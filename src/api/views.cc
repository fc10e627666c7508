#include "api/views.h"

#include <sys/statvfs.h>

#include <cmath>

#include "api/backup_view.h"

namespace pgrt {

nlohmann::json VolumeView(const std::string& path) {
  nlohmann::json v = {{"path", path}};
  struct statvfs fs {};
  if (::statvfs(path.c_str(), &fs) != 0) return v;
  uint64_t size = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  uint64_t available = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  uint64_t used = size - static_cast<uint64_t>(fs.f_bfree) * fs.f_frsize;
  double pct = size > 0 ? std::round(1000.0 * static_cast<double>(used) / static_cast<double>(size)) / 10.0 : 0;
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
  bool replication = ctx.config.replication_mode != ReplicationMode::kStandalone;
  j["replication"] = {{"mode", ToString(ctx.config.replication_mode)}, {"enabled", replication}};
  j["backup"] = BackupView(ctx);
  j["dump"] = DumpView(ctx);
  std::string message = ctx.state.message();
  if (!message.empty()) j["message"] = message;
  if (!ctx.state.ready()) return j;

  auto r = ctx.db.Query(
      "SELECT current_setting('server_version'),"
      " extract(epoch FROM now() - pg_postmaster_start_time())::float8,"
      " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),"
      " current_setting('max_connections')::int, pg_is_in_recovery()");
  if (!r.ok() || r->rows() != 1) {
    j["error"] = "Database unavailable";
    return j;
  }
  j["ready"] = true;
  j["version"] = r->Get(0, 0);
  j["uptime"] = std::stod(r->Get(0, 1));
  j["connections"] = {{"current", std::stoi(r->Get(0, 2))}, {"max", std::stoi(r->Get(0, 3))}};
  j["replication"]["role"] = r->Get(0, 4) == "t" ? "replica" : "primary";
  return j;
}

}  // namespace pgrt
