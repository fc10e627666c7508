// Backups and dumps: start one (token), read their state, list the repository's backups.
// Starting returns 202 at once with the run's id; `pgrt backup` and `pgrt dump` then poll
// GET /__opr/backup or /__opr/dump until `last.id` is theirs.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/backup_view.h"
#include "backup/manager.h"

namespace pgrt {
namespace {

void Json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

}  // namespace

std::vector<Route> BuildBackupRoutes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  auto start = [c](JobKind kind) {
    return [c, kind](const httplib::Request& req, httplib::Response& res) {
      if (c->backups == nullptr) return JsonError(res, 503, "PostgreSQL is starting");
      JobRequest r = c->backups->Request(kind, req.get_param_value("type"));
      if (!r.ok()) return JsonError(res, r.http_status, r.message);
      Json(res, r.http_status, {{"success", true}, {"id", r.id}, {"message", r.message}});
    };
  };
  return {
      {"GET", "/__opr/backup", false,
       [c](const httplib::Request&, httplib::Response& res) { Json(res, 200, BackupView(*c)); }},
      {"GET", "/__opr/dump", false,
       [c](const httplib::Request&, httplib::Response& res) { Json(res, 200, DumpView(*c)); }},
      {"POST", "/__opr/backup", true, start(JobKind::kBackup)},
      {"POST", "/__opr/dump", true, start(JobKind::kDump)},
      {"GET", "/__opr/backups", false,
       [c](const httplib::Request&, httplib::Response& res) {
         if (c->backups == nullptr) return JsonError(res, 503, "PostgreSQL is starting");
         auto info = c->backups->Info();
         if (!info.ok()) return JsonError(res, 502, info.status().message());
         auto j = nlohmann::json::parse(*info, nullptr, /*allow_exceptions=*/false);
         if (j.is_discarded()) return JsonError(res, 502, "pgbackrest info: not JSON");
         Json(res, 200, j);
       }},
  };
}

}  // namespace pgrt
