// The status page and what it reads besides /__opr/status: GET /ui (the page, built into the
// binary from assets/ui/), GET /__opr/history/samples (the last hour's samples) and
// GET /__opr/statements (the top statements by total time). All read-only and without a
// token: nothing on them is secret (docs/status-page.md says why for statements).
#include <charconv>

#include "api/api.h"
#include "api/ui_page.h"
#include "backup/cron.h"
#include "metrics/collector.h"

namespace pgrt {
namespace {

constexpr size_t kDefaultStatements = 20;

HttpResponse Page() {
  HttpResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body.assign(reinterpret_cast<const char*>(kUiPage), kUiPageSize);
  // The page's own inline script and style, and requests to this node only.
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'unsafe-inline'; style-src "
                         "'unsafe-inline'; connect-src 'self'; img-src 'self' data:; "
                         "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

nlohmann::json Rate(double v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v); }

nlohmann::json SamplesView(const SampleHistory& history) {
  nlohmann::json samples = nlohmann::json::array();
  for (const SampleHistory::Sample& s : history.Samples())
    samples.push_back({{"at", FormatUtc(s.at)},
                       {"tps", Rate(s.tps)},
                       {"connections", s.connections},
                       {"lagBytes", s.lag_bytes},
                       {"lagSeconds", s.lag_seconds},
                       {"walBytesPerSecond", Rate(s.wal_bytes_per_second)}});
  return {{"intervalSeconds", SampleHistory::kInterval.count()},
          {"capacity", SampleHistory::kCapacity},
          {"samples", samples}};
}

// ?limit=N (1..100); anything else is the default.
size_t StatementsLimit(const HttpRequest& req) {
  const std::string text = req.QueryParam("limit").value_or("");
  size_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n == 0) return kDefaultStatements;
  return std::min(n, StatementsReport::kMaxLimit);
}

}  // namespace

std::vector<Route> BuildUiRoutes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  return {
      {"GET", "/ui", false, Sync([](const HttpRequest&) { return Page(); })},
      {"GET", "/__opr/history/samples", false,
       Sync([c](const HttpRequest&) { return Json(200, SamplesView(c->state.history())); })},
      {"GET", "/__opr/statements", false,
       [c](const HttpRequest& req, Responder respond) {
         if (c->metrics == nullptr) return respond(JsonError(503, "PostgreSQL is starting"));
         if (!c->state.ready()) return respond(JsonError(503, c->state.NotReadyText()));
         c->metrics->statements().Top(StatementsLimit(req), [respond](
                                                                Result<nlohmann::json> report) {
           if (!report.ok())
             return respond(JsonError(503, "Database unavailable: " + report.status().message()));
           respond(Json(200, *report));
         });
       }},
  };
}

}  // namespace pgrt
