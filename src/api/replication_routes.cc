#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/replication_view.h"
#include "replication/control.h"

namespace pgrt {
namespace {

constexpr const char* kSlotPrefix = "/__opr/replication/slot/";

}  // namespace

std::vector<Route> BuildReplicationRoutes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  auto control = [c](ControlVerb verb) {
    return Sync([c, verb](const HttpRequest& req) {
      const std::string_view prefix = kSlotPrefix;
      std::string slot = req.path.rfind(prefix, 0) == 0 ? req.path.substr(prefix.size()) : "";
      if (!c->state.ready()) return JsonError(503, "PostgreSQL is starting");
      ControlOutcome out = c->db.With([&](PgConn* conn) { return RunControl(conn, verb, slot); });
      if (!out.ok()) return JsonError(out.http_status, out.message);
      if (c->after_control) c->after_control(verb);
      nlohmann::json body = {{"success", true}, {"message", out.message}};
      if (!slot.empty()) body["slotName"] = slot;
      if (verb == ControlVerb::kPause || verb == ControlVerb::kResume)
        body["paused"] = verb == ControlVerb::kPause;
      return Json(out.http_status, body);
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
