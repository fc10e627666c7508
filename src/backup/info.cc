#include "backup/info.h"

#include <nlohmann/json.hpp>

namespace pgrt {
namespace {

int64_t Int(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<int64_t>() : 0;
}

std::string Str(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

}  // namespace

Result<std::optional<BackupRecord>> LatestBackup(const std::string& info_json,
                                                 const std::string& stanza) {
  nlohmann::json all = nlohmann::json::parse(info_json, nullptr, /*allow_exceptions=*/false);
  if (all.is_discarded() || !all.is_array())
    return Status::Error("pgbackrest info: not the JSON array it prints");
  for (const auto& s : all) {
    if (Str(s, "name") != stanza) continue;
    const nlohmann::json status = s.value("status", nlohmann::json::object());
    // 0 ok, 2 no valid backups: both are answers; anything else is a problem to report.
    int64_t code = Int(status, "code");
    if (code != 0 && code != 2)
      return Status::Error("stanza " + stanza + ": " + Str(status, "message"));
    const nlohmann::json backups = s.value("backup", nlohmann::json::array());
    if (!backups.is_array() || backups.empty()) return std::optional<BackupRecord>();
    const nlohmann::json& b = backups.back();  // pgBackRest lists them oldest first
    BackupRecord r;
    r.label = Str(b, "label");
    r.type = Str(b, "type");
    const nlohmann::json ts = b.value("timestamp", nlohmann::json::object());
    r.start_time = Int(ts, "start");
    r.stop_time = Int(ts, "stop");
    const nlohmann::json info = b.value("info", nlohmann::json::object());
    r.database_bytes = Int(info, "size");
    r.repository_bytes = Int(info.value("repository", nlohmann::json::object()), "delta");
    return std::optional<BackupRecord>(r);
  }
  return Status::Error("pgbackrest info: no stanza " + stanza);
}

}  // namespace pgrt
