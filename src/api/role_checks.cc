#include "api/role_checks.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "api/api.h"

namespace pgrt {

std::optional<int64_t> ParseLag(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 18) return std::nullopt;
  int64_t n = std::stoll(text.substr(0, i));
  std::string unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  int64_t mult = 1;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "kB" || unit == "KB")
    mult = 1024;
  else if (unit == "MB")
    mult = 1024LL * 1024;
  else if (unit == "GB")
    mult = 1024LL * 1024 * 1024;
  else if (unit == "TB")
    mult = 1024LL * 1024 * 1024 * 1024;
  else
    return std::nullopt;
  if (n > INT64_MAX / mult) return std::nullopt;
  return n * mult;
}

int RoleCheckStatus(RoleCheck check, bool ready, const Observation& o, const Topology& node,
                    std::optional<int64_t> max_lag) {
  if (!ready || o.role == PgRole::kUnknown) return 503;
  // Both must agree: postgres out of recovery, and the controller meaning this node to be
  // writable (a primary told to follow another is no primary, even before it stops).
  switch (check) {
    case RoleCheck::kPrimary:
      return o.role == PgRole::kPrimary && !node.replica() ? 200 : 503;
    case RoleCheck::kReadOnly:
      return 200;
    case RoleCheck::kReplica:
      if (o.role != PgRole::kReplica || !node.replica()) return 503;
      if (max_lag && (!o.streaming || o.replay_lag_bytes > *max_lag)) return 503;
      return 200;
  }
  return 503;
}

std::vector<Route> BuildRoleCheckRoutes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  auto check = [c](RoleCheck kind) {
    return Sync([c, kind](const HttpRequest& req) {
      std::optional<int64_t> max_lag;
      if (auto lag = req.QueryParam("lag")) {
        max_lag = ParseLag(*lag);
        if (!max_lag) return JsonError(400, "lag: expected bytes or a size like 16MB");
      }
      Observation o = c->state.observation();
      nlohmann::json body = {{"state", ToString(c->state.phase())}, {"role", ToString(o.role)}};
      if (o.role == PgRole::kReplica) body["lagBytes"] = o.replay_lag_bytes;
      return Json(RoleCheckStatus(kind, c->state.ready(), o, c->state.topology(), max_lag), body);
    });
  };
  std::vector<Route> routes;
  for (const char* p : {"/primary", "/leader", "/master", "/read-write"})
    routes.push_back({"GET", p, false, check(RoleCheck::kPrimary)});
  for (const char* p : {"/replica", "/standby"})
    routes.push_back({"GET", p, false, check(RoleCheck::kReplica)});
  routes.push_back({"GET", "/read-only", false, check(RoleCheck::kReadOnly)});
  return routes;
}

}  // namespace pgrt
