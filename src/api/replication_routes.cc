#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "api/api.h"
#include "api/http_status.h"
#include "api/replication_view.h"
#include "replication/control.h"

namespace pgrt {
namespace {

// With PGRT_HA the election owns the roles: a manual promotion would make a second primary.
constexpr const char* kClusterDecides =
    "with PGRT_HA=etcd the cluster chooses the leader: use POST /switchover or /failover";
constexpr const char* kSlotPrefix = "/__opr/replication/slot/";

// One host name or address as libpq takes it: no spaces, quotes, control characters or
// commas (a list of hosts). It reaches primary_conninfo (quoted) and a passfile (escaped).
bool ValidHost(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  for (char ch : h) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (u <= ' ' || u == 0x7f || ch == '\'' || ch == '\\' || ch == ',') return false;
  }
  return true;
}

// {"host": "db2", "port": 5432, "slot": "replica_slot"}; port and slot are optional
// (5432; this node's POSTGRES_REPLICATION_SLOT_NAME, "" for none).
Result<Upstream> ParseUpstream(const std::string& body, const Config& c) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument("expected a JSON object {\"host\", \"port\", \"slot\"}");
  if (!j.contains("host") || !j["host"].is_string() || !ValidHost(j["host"]))
    return Status::InvalidArgument("host: expected a host name or address");
  Upstream up{j["host"], 5432, c.replication_slot_name};
  if (j.contains("port")) {
    if (!j["port"].is_number_integer() || j["port"] < 1 || j["port"] > 65535)
      return Status::InvalidArgument("port: expected 1-65535");
    up.port = j["port"];
  }
  if (j.contains("slot")) {
    if (!j["slot"].is_string() || (j["slot"] != "" && !ValidSlotName(j["slot"])))
      return Status::InvalidArgument("slot: must match ^[a-z0-9_]{1,63}$, or be empty");
    up.slot = j["slot"];
  }
  return up;
}

}  // namespace

std::vector<Route> BuildReplicationRoutes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  // The node's role (the controller's topology, not "postgres is in recovery") decides
  // first, as the runtime's configured mode does there: a standalone node has no slots.
  auto role_refusal = [c](ReplicationMode needed) -> std::optional<HttpResponse> {
    if (c->state.topology().role == needed) return std::nullopt;
    return JsonError(400, needed == ReplicationMode::kPrimary ? kOnlyOnPrimary : kOnlyOnReplica);
  };
  auto control = [c, role_refusal](ControlVerb verb) {
    return RouteHandler([c, verb, role_refusal](const HttpRequest& req, Responder respond) {
      const std::string_view prefix = kSlotPrefix;
      std::string slot = req.path.rfind(prefix, 0) == 0 ? req.path.substr(prefix.size()) : "";
      bool slot_verb = verb == ControlVerb::kCreateSlot || verb == ControlVerb::kDropSlot;
      if (auto refused =
              role_refusal(slot_verb ? ReplicationMode::kPrimary : ReplicationMode::kReplica))
        return respond(*refused);
      if (slot_verb && !ValidSlotName(slot)) return respond(JsonError(400, kInvalidSlotName));
      if (!c->state.ready()) return respond(JsonError(503, "PostgreSQL is starting"));
      RunControl(c->control, verb, slot, [c, verb, slot, respond](Result<std::string> r) {
        if (!r.ok()) return respond(JsonError(HttpStatusOf(r.status()), r.status().message()));
        nlohmann::json body = {{"success", true}, {"message", *r}};
        if (!slot.empty()) body["slotName"] = slot;
        if (verb == ControlVerb::kPause || verb == ControlVerb::kResume)
          body["paused"] = verb == ControlVerb::kPause;
        // Answered once the node has observed the change: a view read right after agrees.
        c->after_control(verb, [respond, body] { respond(Json(200, body)); });
      });
    });
  };
  // The reply to a role change, once the node runs in its new role.
  auto role_reply = [](Responder respond, std::string message) {
    return [respond, message](Result<std::string> r) {
      if (!r.ok()) return respond(JsonError(HttpStatusOf(r.status()), r.status().message()));
      // The runtime's sentence; what the node did in pgrt's own field.
      respond(Json(200, {{"success", true}, {"message", message}, {"detail", *r}}));
    };
  };
  return {
      {"POST", "/__opr/replication/promote", true,
       [c, role_reply, role_refusal](const HttpRequest&, Responder respond) {
         if (c->config.ha_enabled()) return respond(JsonError(409, kClusterDecides));
         if (auto refused = role_refusal(ReplicationMode::kReplica)) return respond(*refused);
         if (!c->state.ready()) return respond(JsonError(503, c->state.NotReadyText()));
         const PgRole now = c->state.observation().role;
         if (now == PgRole::kUnknown) return respond(JsonError(503, "Database unavailable"));
         if (now != PgRole::kReplica) return respond(JsonError(400, kNotInRecovery));
         c->promote("promote requested through the API",
                    role_reply(std::move(respond), kPromotionInitiated));
       }},
      {"POST", "/__opr/replication/follow", true,
       [c, role_reply](const HttpRequest& req, Responder respond) {
         if (c->config.ha_enabled()) return respond(JsonError(409, kClusterDecides));
         auto up = ParseUpstream(req.body, c->config);
         if (!up.ok()) return respond(JsonError(400, up.status().message()));
         if (!c->state.ready()) return respond(JsonError(503, c->state.NotReadyText()));
         std::string why =
             "follow " + up->host + ":" + std::to_string(up->port) + " requested through the API";
         c->follow(*up, std::move(why), [respond](Result<std::string> r) {
           if (!r.ok()) return respond(JsonError(HttpStatusOf(r.status()), r.status().message()));
           respond(Json(200, {{"success", true}, {"message", *r}}));
         });
       }},
      {"GET", "/__opr/replication", false, Sync([c](const HttpRequest&) {
         auto view = ReplicationView(*c);
         if (!view) return JsonError(503, "Database unavailable");
         return Json(200, *view);
       })},
      {"POST", "/__opr/replication/pause", true, control(ControlVerb::kPause)},
      {"POST", "/__opr/replication/resume", true, control(ControlVerb::kResume)},
      // Any characters up to the end, so a bad name gets a 400 from the validator
      // rather than a 404 from the router.
      {"POST", kSlotPrefix, true, control(ControlVerb::kCreateSlot)},
      {"DELETE", kSlotPrefix, true, control(ControlVerb::kDropSlot)},
  };
}

}  // namespace pgrt
