// Backups and dumps: start one (token), read their state, list the repository's backups.
// Starting returns 202 at once with the run's id; `pgrt backup` and `pgrt dump` then poll
// GET /__opr/backup or /__opr/dump until `last.id` is theirs. Handlers run on the loop,
// which owns the BackupManager: they call it directly.
#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/backup_view.h"
#include "backup/manager.h"

namespace pgrt {

std::vector<Route> BuildBackupRoutes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  auto start = [c](JobKind kind) {
    return Sync([c, kind](const HttpRequest& req) {
      if (c->backups == nullptr) return JsonError(503, "PostgreSQL is starting");
      JobRequest r = c->backups->Request(kind, req.QueryParam("type").value_or(""));
      if (!r.ok()) return JsonError(r.http_status, r.message);
      return Json(r.http_status, {{"success", true}, {"id", r.id}, {"message", r.message}});
    });
  };
  return {
      {"GET", "/__opr/backup", false,
       Sync([c](const HttpRequest&) { return Json(200, BackupView(*c)); })},
      {"GET", "/__opr/dump", false,
       Sync([c](const HttpRequest&) { return Json(200, DumpView(*c)); })},
      {"POST", "/__opr/backup", true, start(JobKind::kBackup)},
      {"POST", "/__opr/dump", true, start(JobKind::kDump)},
      {"GET", "/__opr/backups", false,
       [c](const HttpRequest&, Responder respond) {
         if (c->backups == nullptr) return respond(JsonError(503, "PostgreSQL is starting"));
         c->backups->Info([respond](Result<std::string> info) {
           if (!info.ok()) return respond(JsonError(502, info.status().message()));
           auto j = nlohmann::json::parse(*info, nullptr, /*allow_exceptions=*/false);
           if (j.is_discarded()) return respond(JsonError(502, "pgbackrest info: not JSON"));
           respond(Json(200, j));
         });
       }},
  };
}

}  // namespace pgrt
