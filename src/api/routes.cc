#include "api/api.h"
#include "api/http_status.h"
#include "api/live_probe.h"
#include "api/views.h"

namespace pgrt {
namespace {

// The answer to a hibernate or wake request, once the node got where it was sent (or
// ended somewhere else instead: a crash loop, a shutdown).
HttpResponse LifecycleAnswer(Mode reached, Mode wanted, const char* what) {
  if (reached == wanted)
    return Json(200, {{"success", true},
                      {"phase", ToString(reached == Mode::kRunning ? NodePhase::kReady
                                                                   : NodePhase::kHibernated)}});
  return JsonError(503, std::string(what) + " did not complete: the node is " + ToString(reached));
}

// POST /switchover and /failover (Patroni's names and bodies: {leader?, candidate?}).
RouteHandler SwitchoverRoute(ApiContext* c, bool failover) {
  return [c, failover](const HttpRequest& req, Responder respond) {
    if (!c->switchover) return respond(JsonError(503, "this node runs without PGRT_HA"));
    nlohmann::json body = nlohmann::json::object();
    if (!req.body.empty()) {
      body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
      if (!body.is_object()) return respond(JsonError(400, "the body is not a JSON object"));
    }
    auto text = [&body](const char* key) -> std::optional<std::string> {
      if (!body.contains(key) || body[key].is_null()) return std::string();
      if (!body[key].is_string()) return std::nullopt;
      return body[key].get<std::string>();
    };
    auto leader = text("leader");
    auto candidate = text("candidate");
    if (!leader || !candidate)
      return respond(JsonError(400, "leader and candidate must be member names"));
    if (failover && candidate->empty())
      return respond(JsonError(400, "a failover needs a candidate"));
    c->switchover(*leader, *candidate, failover, [respond](Result<std::string> r) {
      if (!r.ok()) return respond(JsonError(HttpStatusOf(r.status()), r.status().message()));
      respond(Json(200, {{"success", true}, {"message", *r}}));
    });
  };
}

}  // namespace

std::vector<Route> BuildRoutes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  return {
      // A live probe: can a client connect and run a query now (fresh connection, deadline).
      {"GET", "/__opr/health", false,
       [c](const HttpRequest&, Responder respond) {
         if (!c->state.ready()) return respond(HttpResponse::Text(503, c->state.NotReadyText()));
         c->probe.Check([c, respond](const Status& st) {
           respond(st.ok() ? HttpResponse::Text(200, "OK")
                           : HttpResponse::Text(503, c->state.UnavailableText()));
         });
       }},
      // 200 whether ready or not, as the runtime answers: `ready` says which.
      {"GET", "/__opr/status", false,
       Sync([c](const HttpRequest&) { return Json(200, StatusView(*c)); })},
      {"GET", "/__opr/timings", false,
       Sync([c](const HttpRequest&) { return HttpResponse::Text(200, c->timings.Render()); })},
      // Patroni's meanings: /liveness = pgrt's loop is alive; /readiness = the node can take
      // traffic (/health, postgres is running, is a role check: api/role_checks.cc).
      {"GET", "/liveness", false, Sync([c](const HttpRequest&) {
         bool alive = c->clock.Now() - c->state.last_beat() < std::chrono::seconds(10);
         return Json(alive ? 200 : 503, {{"alive", alive}});
       })},
      {"GET", "/readiness", false,
       [c](const HttpRequest&, Responder respond) {
         if (!c->state.ready()) return respond(Json(503, {{"ready", false}}));
         c->probe.Check([respond](const Status& st) {
           respond(Json(st.ok() ? 200 : 503, {{"ready", st.ok()}}));
         });
       }},
      // Patroni's name: the HA cluster as this node sees it (PGRT_HA=etcd).
      {"GET", "/cluster", false, Sync([c](const HttpRequest&) {
         nlohmann::json view = c->state.cluster();
         if (view.is_null()) return JsonError(404, "this node runs without PGRT_HA");
         view.erase("history");
         return Json(200, view);
       })},
      {"GET", "/history", false, Sync([c](const HttpRequest&) {
         nlohmann::json view = c->state.cluster();
         if (view.is_null()) return JsonError(404, "this node runs without PGRT_HA");
         return Json(200, view.value("history", nlohmann::json::array()));
       })},
      {"POST", "/switchover", true, SwitchoverRoute(c, false)},
      {"POST", "/failover", true, SwitchoverRoute(c, true)},
      // The lifecycle: postgres stops (cleanly) and starts again while pgrt keeps serving.
      // Idempotent; each answers once the node got there.
      {"POST", "/__opr/hibernate", true,
       [c](const HttpRequest&, Responder respond) {
         // A hibernated leader would hold the lease with no postgres behind it.
         if (c->config.ha_enabled())
           return respond(JsonError(409, "hibernation is not available with PGRT_HA=etcd"));
         c->hibernate("hibernate requested through the API", [respond](Mode reached) {
           respond(LifecycleAnswer(reached, Mode::kHibernated, "hibernate"));
         });
       }},
      {"POST", "/__opr/wake", true,
       [c](const HttpRequest&, Responder respond) {
         c->wake("wake requested through the API", [respond](Mode reached) {
           respond(LifecycleAnswer(reached, Mode::kRunning, "wake"));
         });
       }},
  };
}

}  // namespace pgrt
