// GET /metrics: Prometheus's text format, without authentication (like every exporter).
#include "api/api.h"
#include "backup/manager.h"
#include "metrics/collector.h"

namespace pgrt {
namespace {

BackupFacts ReadBackupFacts(BackupManager* backups) {
  BackupFacts facts;
  if (backups == nullptr) return facts;
  BackupSnapshot s = backups->Snapshot();
  if (!s.backups_enabled || !s.backup_last) return facts;
  if (s.backup_last->ok) facts.last_success = s.backup_last->finished;
  facts.last_failed = !s.backup_last->ok;
  return facts;
}

}  // namespace

std::vector<Route> BuildMetricsRoutes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  return {
      {"GET", "/metrics", false,
       [c](const HttpRequest&, Responder respond) {
         if (c->metrics == nullptr) return respond(JsonError(503, "metrics are not available"));
         c->metrics->Scrape(ReadBackupFacts(c->backups), [respond](std::string text) {
           HttpResponse r;
           r.content_type = "text/plain; version=0.0.4; charset=utf-8";
           r.body = std::move(text);
           respond(std::move(r));
         });
       }},
  };
}

}  // namespace pgrt
