#include "api/backup_view.h"

#include "backup/cron.h"
#include "backup/manager.h"
#include "backup/pgbackrest.h"

namespace pgrt {
namespace {

nlohmann::json Time(const std::optional<SystemTime>& t) {
  return t ? nlohmann::json(FormatUtc(*t)) : nlohmann::json(nullptr);
}

nlohmann::json RunningView(const std::optional<JobRecord>& r) {
  if (!r) return nullptr;
  return {{"id", r->id},
          {"type", r->type},
          {"trigger", r->trigger},
          {"startedAt", FormatUtc(r->started)}};
}

nlohmann::json LastView(const std::optional<JobRecord>& r, bool dump) {
  if (!r) return nullptr;
  nlohmann::json j = {{"id", r->id},
                      {"time", FormatUtc(r->finished)},
                      {"startedAt", FormatUtc(r->started)},
                      {"type", r->type},
                      {"trigger", r->trigger},
                      {"sizeBytes", r->size_bytes},
                      {"result", r->ok ? "ok" : "failed"}};
  if (!r->ok) j["error"] = r->error;
  if (dump) {
    j["files"] = r->files;
    j["pruned"] = r->pruned;
  } else {
    j["label"] = r->label;
    j["databaseBytes"] = r->database_bytes;
  }
  return j;
}

// pg_stat_archiver from the monitor's last observation; null when postgres cannot be asked.
nlohmann::json ArchiveView(ApiContext& ctx) {
  if (!ctx.state.ready()) return nullptr;
  return ctx.state.observation().archive;
}

}  // namespace

nlohmann::json BackupView(ApiContext& ctx) {
  BackupSnapshot s = ctx.backups ? ctx.backups->Snapshot() : BackupSnapshot();
  nlohmann::json j = {{"enabled", s.backups_enabled}};
  if (!s.backups_enabled) return j;
  j["tool"] = "pgbackrest";
  j["stanza"] = {{"name", StanzaName(ctx.config)}, {"ready", s.stanza_ready}};
  if (!s.stanza_error.empty()) j["stanza"]["error"] = s.stanza_error;
  j["running"] = RunningView(s.backup_running);
  j["last"] = LastView(s.backup_last, false);
  j["next"] = Time(s.next_backup);
  j["archive"] = ArchiveView(ctx);
  return j;
}

nlohmann::json DumpView(ApiContext& ctx) {
  BackupSnapshot s = ctx.backups ? ctx.backups->Snapshot() : BackupSnapshot();
  nlohmann::json j = {{"enabled", s.dumps_enabled}};
  if (!s.dumps_enabled) return j;
  j["dir"] = ctx.config.dump_dir;
  j["retentionDays"] = ctx.config.dump_retention_days;
  j["running"] = RunningView(s.dump_running);
  j["last"] = LastView(s.dump_last, true);
  j["next"] = Time(s.next_dump);
  return j;
}

}  // namespace pgrt
