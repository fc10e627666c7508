#include <httplib.h>

#include <nlohmann/json.hpp>

#include "api/api.h"
#include "api/replication_view.h"
#include "replication/control.h"

namespace pgrt {

std::vector<Route> BuildReplicationRoutes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  auto control = [c](ControlVerb verb) {
    return [c, verb](const httplib::Request& req, httplib::Response& res) {
      std::string slot = req.matches.size() > 1 ? std::string(req.matches[1]) : "";
      if (!c->state.ready()) return JsonError(res, 503, "PostgreSQL is starting");
      ControlOutcome out =
          c->db.With([&](PgConn* conn) { return RunControl(conn, verb, slot); });
      if (!out.ok()) return JsonError(res, out.http_status, out.message);
      if (c->after_control) c->after_control(verb);
      nlohmann::json body = {{"success", true}, {"message", out.message}};
      if (!slot.empty()) body["slotName"] = slot;
      if (verb == ControlVerb::kPause || verb == ControlVerb::kResume)
        body["paused"] = verb == ControlVerb::kPause;
      res.status = out.http_status;
      res.set_content(body.dump(), "application/json");
    };
  };
  return {
      {"GET", "/__opr/replication", false,
       [c](const httplib::Request&, httplib::Response& res) {
         auto view = ReplicationView(*c);
         if (!view) return JsonError(res, 503, "Database unavailable");
         res.set_content(view->dump(), "application/json");
       }},
      {"POST", "/__opr/replication/promote", true, control(ControlVerb::kPromote)},
      {"POST", "/__opr/replication/pause", true, control(ControlVerb::kPause)},
      {"POST", "/__opr/replication/resume", true, control(ControlVerb::kResume)},
      // Any characters up to the end, so a bad name gets a 400 from the validator
      // rather than a 404 from the router.
      {"POST", R"(/__opr/replication/slot/([^/]*))", true, control(ControlVerb::kCreateSlot)},
      {"DELETE", R"(/__opr/replication/slot/([^/]*))", true, control(ControlVerb::kDropSlot)},
  };
}

}  // namespace pgrt
