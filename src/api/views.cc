#include "api/views.h"

#include <sys/statvfs.h>

#include <cstdio>
#include <fstream>

#include "api/backup_view.h"
#include "api/replication_view.h"
#include "backup/cron.h"
#include "backup/manager.h"
#include "tls/certificate.h"

namespace pgrt {
namespace {

// The OpenRuntimes runtime's backup volume when pgrt has no backup directory of its own.
constexpr const char* kDefaultBackupPath = "/mnt/backups";

// Where this node keeps its backups on a local file system: pgBackRest's posix repository,
// else the dump directory, else the OpenRuntimes runtime's path.
std::string BackupPath(const Config& c) {
  if (c.backup == "pgbackrest") {
    auto type = c.pgbackrest_env.find("PGBACKREST_REPO1_TYPE");
    auto path = c.pgbackrest_env.find("PGBACKREST_REPO1_PATH");
    bool posix = type == c.pgbackrest_env.end() || type->second == "posix";
    if (posix && path != c.pgbackrest_env.end() && !path->second.empty()) return path->second;
  }
  if (!c.dump_dir.empty()) return c.dump_dir;
  return kDefaultBackupPath;
}

// "15.18 (Debian 15.18-0+deb12u1)" → "15.18": the number alone, as the runtime's clients
// expect (letters, digits, dots and hyphens).
std::string ShortVersion(const std::string& full) { return full.substr(0, full.find(' ')); }

// Before postgres first answered: the major version the data directory was made with.
std::string DataDirVersion(const std::string& pgdata) {
  std::ifstream in(pgdata + "/PG_VERSION");
  std::string v;
  if (!(in >> v)) return "unknown";
  return v;
}

// The running backup's progress, as the backup manager last read it.
std::optional<NodeState::Progress> BackupProgress(ApiContext& ctx) {
  if (ctx.backups == nullptr) return std::nullopt;
  BackupSnapshot s = ctx.backups->Snapshot();
  if (!s.backup_running || !s.backup_progress) return std::nullopt;
  return NodeState::Progress{"backup", *s.backup_progress, s.backup_running->started,
                             s.backup_progress_at.value_or(s.backup_running->started)};
}

nlohmann::json Optional(const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json ProgressView(ApiContext& ctx) {
  std::optional<NodeState::Progress> p = ctx.state.progress();
  if (!p) p = BackupProgress(ctx);
  if (!p) return nullptr;
  return {{"operation", p->operation},
          {"bytesDone", Optional(p->reading.bytes_done)},
          {"bytesTotal", Optional(p->reading.bytes_total)},
          {"percent", Optional(p->reading.percent)},
          {"startedAt", FormatUtc(p->started)},
          {"updatedAt", FormatUtc(p->updated)}};
}

std::string HumanSize(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes);
  static constexpr char kUnits[] = "KMGTPE";
  int exponent = 0;
  uint64_t unit = 1;  // 1024^exponent; at most 2^60
  while (exponent < 6 && bytes / unit >= 1024) {
    unit *= 1024;
    ++exponent;
  }
  const uint64_t whole = bytes / unit, rest = bytes % unit;
  // Rounded up, as df rounds: one decimal below 10, whole numbers from there.
  const uint64_t tenths = whole * 10 + (rest * 10 + unit - 1) / unit;
  char buf[32];
  if (tenths < 100) {
    std::snprintf(buf, sizeof buf, "%u.%u%c", static_cast<unsigned>(tenths / 10),
                  static_cast<unsigned>(tenths % 10), kUnits[exponent - 1]);
    return buf;
  }
  const uint64_t up = whole + (rest > 0 ? 1 : 0);
  if (up >= 1024 && exponent < 6) {  // 1023.1K rounds up to the next unit
    std::snprintf(buf, sizeof buf, "1.0%c", kUnits[exponent]);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%llu%c", static_cast<unsigned long long>(up),
                kUnits[exponent - 1]);
  return buf;
}

std::string HumanPercent(uint64_t used, uint64_t available) {
  uint64_t total = used + available;
  if (total == 0) return "-";
  // Coarser units where used * 100 would not fit (file systems of exabytes).
  while (used > UINT64_MAX / 100) {
    used >>= 10;
    total >>= 10;
  }
  // df's Use%: used / (used + available), rounded up.
  return std::to_string((used * 100 + total - 1) / total) + "%";
}

nlohmann::json VolumeView(const std::string& path) {
  nlohmann::json v = {{"path", path}};
  struct statvfs fs {};
  if (::statvfs(path.c_str(), &fs) != 0) {
    v["mounted"] = false;
    return v;
  }
  uint64_t size = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  uint64_t available = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  uint64_t used = size - static_cast<uint64_t>(fs.f_bfree) * fs.f_frsize;
  // The runtime's fields are df -h's columns; the byte counts are pgrt's own.
  v["size"] = HumanSize(size);
  v["used"] = HumanSize(used);
  v["available"] = HumanSize(available);
  v["usePercent"] = HumanPercent(used, available);
  v["mounted"] = true;
  v["sizeBytes"] = size;
  v["usedBytes"] = used;
  v["availableBytes"] = available;
  return v;
}

nlohmann::json SleepView(const SleepState& s, SystemTime now) {
  double asleep = s.asleep_seconds_total;
  if (s.asleep_since) asleep += std::chrono::duration<double>(now - *s.asleep_since).count();
  nlohmann::json wakes = nlohmann::json::array();
  for (const WakeRecord& w : s.recent_wakes)
    wakes.push_back({{"at", FormatUtc(w.at)}, {"clientWaitSeconds", w.seconds}, {"why", w.why}});
  nlohmann::json j = {{"idleTimeoutSeconds", s.idle_timeout_seconds},
                      {"asleep", s.asleep},
                      {"handoff", s.handoff},
                      {"asleepSince", s.asleep_since ? nlohmann::json(FormatUtc(*s.asleep_since))
                                                     : nlohmann::json(nullptr)},
                      {"clientSessions", s.sessions},
                      {"heldClients", s.held},
                      {"clientsAccepted", s.accepted},
                      {"clientsRefused", s.refused},
                      {"sleeps", s.sleeps},
                      {"wakes", s.wakes},
                      {"asleepSecondsTotal", asleep < 0 ? 0 : asleep},
                      {"recentWakes", wakes}};
  if (!s.last_error.empty()) j["lastWakeError"] = s.last_error;
  return j;
}

nlohmann::json TlsView(const std::map<std::string, TlsCertStatus>& sets, SystemTime now) {
  nlohmann::json out = nlohmann::json::object();
  const auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  for (const auto& [which, s] : sets) {
    out[which] = {{"subject", s.subject},
                  {"serial", s.serial},
                  {"sha256", s.sha256},
                  {"notAfter", IsoTime(s.not_after)},
                  {"expired", s.not_after <= now_s},
                  {"lastRotation", s.last_rotation ? nlohmann::json(FormatUtc(*s.last_rotation))
                                                   : nlohmann::json(nullptr)},
                  {"lastError",
                   s.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.last_error)},
                  {"rotations", s.rotations},
                  {"rotationFailures", s.failures}};
  }
  return out;
}

nlohmann::json StatusView(ApiContext& ctx) {
  nlohmann::json j;
  const Observation o = ctx.state.observation();
  j["ready"] = false;
  j["engine"] = "postgres";
  // The last version postgres told, else the data directory's; never null.
  std::string full = o.version;
  j["version"] = full.empty() ? DataDirVersion(ctx.config.pgdata) : ShortVersion(full);
  j["serverVersion"] = full.empty() ? nlohmann::json(nullptr) : nlohmann::json(full);
  // The runtime's uptime is its own process's: pgrt's, which outlives postgres restarts.
  double uptime = SecondsBetween(ctx.timings.launch(), ctx.clock.Now());
  j["uptime"] = uptime < 0 ? 0 : uptime;
  j["postgresUptime"] = nullptr;
  j["phase"] = ToString(ctx.state.phase());
  j["restarts"] = ctx.state.restarts();
  j["connections"] = {{"current", 0}, {"max", ctx.config.max_connections}};
  j["volumes"] = {{"data", VolumeView(ctx.config.pgdata)},
                  {"backups", VolumeView(BackupPath(ctx.config))}};
  const Topology topology = ctx.state.topology();
  // The same object /__opr/replication gives; its first two fields while postgres is away.
  auto replication = ReplicationView(ctx);
  j["replication"] =
      replication ? *replication
                  : nlohmann::json{{"mode", ToString(topology.role)},
                                   {"enabled", topology.role != ReplicationMode::kStandalone}};
  j["backup"] = BackupView(ctx);
  j["dump"] = DumpView(ctx);
  // The controller's last moves, oldest first.
  nlohmann::json moves = nlohmann::json::array();
  for (const NodeState::Move& m : ctx.state.transitions())
    moves.push_back({{"at", FormatUtc(m.at)}, {"from", m.from}, {"to", m.to}, {"why", m.why}});
  j["transitions"] = moves;
  if (auto sleep = ctx.state.sleep()) j["sleep"] = SleepView(*sleep, ctx.clock.WallNow());
  j["progress"] = ProgressView(ctx);
  std::string message = ctx.state.message();
  if (!message.empty()) j["message"] = message;
  if (auto tls = ctx.state.tls(); !tls.empty()) j["tls"] = TlsView(tls, ctx.clock.WallNow());
  if (!ctx.state.ready()) return j;
  // From the monitor's last observation: a status request never queries postgres.
  if (o.role == PgRole::kUnknown) {
    j["error"] = "Database unavailable";
    return j;
  }
  j["ready"] = true;
  double pg_uptime = std::chrono::duration<double>(ctx.clock.WallNow().time_since_epoch()).count() -
                     o.started_epoch;
  j["postgresUptime"] = pg_uptime < 0 ? 0 : pg_uptime;
  j["connections"] = {{"current", o.connections}, {"max", o.max_connections}};
  return j;
}

}  // namespace pgrt
