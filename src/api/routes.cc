#include <httplib.h>

#include "api/api.h"
#include "api/views.h"

namespace pgrt {
namespace {

void Text(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "text/plain; charset=utf-8");
}

void Json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

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
      {"GET", "/__opr/health", false,
       [c](const httplib::Request&, httplib::Response& res) {
         if (!c->state.ready()) return Text(res, 503, c->state.NotReadyText());
         if (!AcceptsQueries(*c)) return Text(res, 503, c->state.UnavailableText());
         Text(res, 200, "OK");
       }},
      {"GET", "/__opr/status", false,
       [c](const httplib::Request&, httplib::Response& res) {
         nlohmann::json j = StatusView(*c);
         Json(res, j["ready"].get<bool>() ? 200 : 503, j);
       }},
      {"GET", "/__opr/timings", false,
       [c](const httplib::Request&, httplib::Response& res) {
         Text(res, 200, c->timings.Render());
       }},
      // Patroni's meanings: /health = postgres is running; /liveness = pgrt's loop is
      // alive; /readiness = the node can take traffic.
      {"GET", "/health", false,
       [c](const httplib::Request&, httplib::Response& res) {
         Json(res, c->state.ready() ? 200 : 503, {{"state", ToString(c->state.phase())}});
       }},
      {"GET", "/liveness", false,
       [c](const httplib::Request&, httplib::Response& res) {
         bool alive = c->clock.Now() - c->state.last_beat() < std::chrono::seconds(10);
         Json(res, alive ? 200 : 503, {{"alive", alive}});
       }},
      {"GET", "/readiness", false,
       [c](const httplib::Request&, httplib::Response& res) {
         bool ready = AcceptsQueries(*c);
         Json(res, ready ? 200 : 503, {{"ready", ready}});
       }},
  };
}

}  // namespace pgrt
