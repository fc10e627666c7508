#include "api/api.h"
#include "api/views.h"

namespace pgrt {
namespace {

// Does postgres answer a query right now?
bool AcceptsQueries(ApiContext& ctx) {
  if (!ctx.state.ready()) return false;
  auto r = ctx.db.Query("SELECT 1");
  return r.ok();
}

}  // namespace

std::vector<Route> BuildRoutes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  return {
      {"GET", "/__opr/health", false, Sync([c](const HttpRequest&) {
         if (!c->state.ready()) return HttpResponse::Text(503, c->state.NotReadyText());
         if (!AcceptsQueries(*c)) return HttpResponse::Text(503, c->state.UnavailableText());
         return HttpResponse::Text(200, "OK");
       })},
      {"GET", "/__opr/status", false, Sync([c](const HttpRequest&) {
         nlohmann::json j = StatusView(*c);
         return Json(j["ready"].get<bool>() ? 200 : 503, j);
       })},
      {"GET", "/__opr/timings", false,
       Sync([c](const HttpRequest&) { return HttpResponse::Text(200, c->timings.Render()); })},
      // Patroni's meanings: /health = postgres is running; /liveness = pgrt's loop is
      // alive; /readiness = the node can take traffic.
      {"GET", "/health", false, Sync([c](const HttpRequest&) {
         return Json(c->state.ready() ? 200 : 503, {{"state", ToString(c->state.phase())}});
       })},
      {"GET", "/liveness", false, Sync([c](const HttpRequest&) {
         bool alive = c->clock.Now() - c->state.last_beat() < std::chrono::seconds(10);
         return Json(alive ? 200 : 503, {{"alive", alive}});
       })},
      {"GET", "/readiness", false, Sync([c](const HttpRequest&) {
         bool ready = AcceptsQueries(*c);
         return Json(ready ? 200 : 503, {{"ready", ready}});
       })},
  };
}

}  // namespace pgrt
