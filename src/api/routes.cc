#include "api/api.h"
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
         return Json(200, view);
       })},
      // The lifecycle: postgres stops (cleanly) and starts again while pgrt keeps serving.
      // Idempotent; each answers once the node got there.
      {"POST", "/__opr/hibernate", true,
       [c](const HttpRequest&, Responder respond) {
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
