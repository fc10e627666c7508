#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/http_status.h"
#include "api/replication_view.h"
#include "replication/control.h"

namespace pgrt {
namespace {
constexpr const char* kSlotPrefix = "/__opr/replication/slot/";
}  // namespace

std::vector<Route> BuildReplicationRoutes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  auto control = [c](ControlVerb verb) {
    return RouteHandler([c, verb](const HttpRequest& req, Responder respond) {
      const std::string_view prefix = kSlotPrefix;
      std::string slot = req.path.rfind(prefix, 0) == 0 ? req.path.substr(prefix.size()) : "";
      if (!c->state.ready()) return respond(JsonError(503, "PostgreSQL is starting"));
      RunControl(c->control, verb, slot, [c, verb, slot, respond](Result<std::string> r) {
        if (!r.ok()) return respond(JsonError(HttpStatusOf(r.status()), r.status().message()));
        nlohmann::json body = {{"success", true}, {"message", *r}};
        if (!slot.empty()) body["slotName"] = slot;
        if (verb == ControlVerb::kPause || verb == ControlVerb::kResume)
          body["paused"] = verb == ControlVerb::kPause;
        const int status = verb == ControlVerb::kCreateSlot ? 201 : 200;
        // Answered once the node has observed the change: a view read right after agrees.
        c->after_control(verb, [respond, status, body] { respond(Json(status, body)); });
      });
    });
  };
  return {
      {"GET", "/__opr/replication", false, Sync([c](const HttpRequest&) {
         auto view = ReplicationView(*c);
         if (!view) return JsonError(503, "Database unavailable");
         return Json(200, *view);
       })},
      {"POST", "/__opr/replication/promote", true, control(ControlVerb::kPromote)},
      {"POST", "/__opr/replication/pause", true, control(ControlVerb::kPause)},
      {"POST", "/__opr/replication/resume", true, control(ControlVerb::kResume)},
      // Any characters up to the end, so a bad name gets a 400 from the validator
      // rather than a 404 from the router.
      {"POST", kSlotPrefix, true, control(ControlVerb::kCreateSlot)},
      {"DELETE", kSlotPrefix, true, control(ControlVerb::kDropSlot)},
  };
}

}  // namespace pgrt
