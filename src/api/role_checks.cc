#include "api/role_checks.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string_view>

#include "api/api.h"
#include "replication/conninfo.h"
#include "util/text.h"

namespace pgrt {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "\"a\"\"b\"" → a"b; an unquoted name as it is.
std::string Unquote(std::string_view name) {
  if (name.size() < 2 || name.front() != '"' || name.back() != '"') return std::string(name);
  std::string out;
  for (size_t i = 1; i + 1 < name.size(); ++i) {
    out += name[i];
    if (name[i] == '"' && i + 2 < name.size() && name[i + 1] == '"') ++i;
  }
  return out;
}

}  // namespace

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

RoleCheckQuery ParseRoleCheckQuery(const std::string& raw_query) {
  HttpRequest req;
  req.query = raw_query;
  RoleCheckQuery q;
  if (auto lag = req.QueryParam("lag")) q.max_lag = ParseLag(*lag);
  std::string_view rest = raw_query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string key = PercentDecode(rest.substr(0, std::min(amp, rest.find('='))), true);
    if (key.rfind("tag_", 0) == 0) q.filters_on_tags = true;
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return q;
}

bool NamesStandby(std::string_view names, std::string_view application_name) {
  // "FIRST n (list)", "ANY n (list)" and "n (list)" name the list in parentheses.
  if (size_t open = names.find('('); open != std::string_view::npos) {
    size_t close = names.rfind(')');
    if (close == std::string_view::npos || close < open) return false;
    names = names.substr(open + 1, close - open - 1);
  }
  while (!names.empty()) {
    // Split at the next comma outside double quotes.
    size_t end = 0;
    bool quoted = false;
    for (; end < names.size(); ++end) {
      if (names[end] == '"') quoted = !quoted;
      if (names[end] == ',' && !quoted) break;
    }
    std::string_view item = Trim(names.substr(0, end));
    names = end < names.size() ? names.substr(end + 1) : std::string_view();
    if (item == "*") return true;
    if (!item.empty() && EqualsIgnoringCase(Unquote(item), application_name)) return true;
  }
  return false;
}

bool IsSyncStandby(const Observation& seen, std::string_view synchronous_standby_names,
                   std::string_view application_name) {
  return seen.role == PgRole::kReplica && seen.streaming &&
         NamesStandby(synchronous_standby_names, application_name);
}

int RoleCheckStatus(RoleCheck check, const RoleFacts& f, const RoleCheckQuery& query) {
  const Observation& o = f.seen;
  const bool known = f.ready && o.role != PgRole::kUnknown;
  // Both must agree: postgres out of recovery, and the controller meaning this node to be
  // writable (a primary told to follow another is no primary, even before it stops).
  const bool primary =
      known && o.role == PgRole::kPrimary && !f.node.replica() && f.lease_held.value_or(true);
  // Patroni's replica_status_code: a running replica (being promoted is not one), within
  // ?lag=. Patroni measures lag against the leader's position in the DCS; pgrt against what
  // its WAL receiver has received, so a replica that does not stream fails any lag limit.
  const bool lagging = query.max_lag && (!o.streaming || o.replay_lag_bytes > *query.max_lag);
  const bool replica = known && o.role == PgRole::kReplica && f.node.replica() && !lagging;
  const bool sync = replica && f.sync;

  bool ok = false;
  switch (check) {
    case RoleCheck::kPrimary:
      return primary ? 200 : 503;  // tags are ignored, as in Patroni
    case RoleCheck::kStandbyLeader:
      return 503;  // pgrt runs no standby cluster
    case RoleCheck::kReplica:
      ok = replica;
      break;
    case RoleCheck::kReadOnly:
      ok = primary || replica;
      break;
    case RoleCheck::kReadOnlySync:
      ok = primary || sync;
      break;
    case RoleCheck::kSync:
      ok = sync;
      break;
    case RoleCheck::kAsync:
      ok = replica && !f.sync;
      break;
    case RoleCheck::kHealth:
      ok = f.ready;  // postgres is running, whatever its role
      break;
  }
  // A node without tags matches no tag filter; Patroni's primary checks ignore tags.
  if (ok && query.filters_on_tags) ok = false;
  return ok ? 200 : 503;
}

std::vector<Route> BuildRoleCheckRoutes(ApiContext& ctx) {
  ApiContext* c = &ctx;
  // Computed once: the name this node's WAL receiver gives its primary.
  const std::string app_name = ReplicaApplicationName(ctx.config, NodeName(ctx.config));
  auto check = [c, app_name](RoleCheck kind) {
    return Sync([c, app_name, kind](const HttpRequest& req) {
      RoleFacts f;
      f.ready = c->state.ready();
      f.seen = c->state.observation();
      f.node = c->state.topology();
      f.lease_held = c->state.lease_held();
      f.sync = IsSyncStandby(f.seen, c->config.synchronous_standby_names, app_name);
      if (f.lease_held) {
        // PGRT_HA: the synchronous standby is the one the leader named in etcd.
        const nlohmann::json cluster = c->state.cluster();
        f.sync = f.seen.role == PgRole::kReplica && cluster.is_object() &&
                 cluster.value("sync_standby", nlohmann::json()) == NodeName(c->config);
      }
      nlohmann::json body = {{"state", ToString(c->state.phase())},
                             {"role", ToString(f.seen.role)}};
      if (f.seen.role == PgRole::kReplica) {
        body["lagBytes"] = f.seen.replay_lag_bytes;
        body["syncStandby"] = f.sync;
      }
      return Json(RoleCheckStatus(kind, f, ParseRoleCheckQuery(req.query)), body);
    });
  };
  // Patroni's paths; pgrt adds /standby for /replica. GET routes answer HEAD and OPTIONS.
  const std::pair<const char*, RoleCheck> paths[] = {
      {"/", RoleCheck::kPrimary},
      {"/primary", RoleCheck::kPrimary},
      {"/master", RoleCheck::kPrimary},
      {"/read-write", RoleCheck::kPrimary},
      {"/leader", RoleCheck::kPrimary},
      {"/standby-leader", RoleCheck::kStandbyLeader},
      {"/standby_leader", RoleCheck::kStandbyLeader},
      {"/replica", RoleCheck::kReplica},
      {"/standby", RoleCheck::kReplica},
      {"/read-only", RoleCheck::kReadOnly},
      {"/read-only-sync", RoleCheck::kReadOnlySync},
      {"/read-only-synchronous", RoleCheck::kReadOnlySync},
      {"/sync", RoleCheck::kSync},
      {"/synchronous", RoleCheck::kSync},
      {"/async", RoleCheck::kAsync},
      {"/asynchronous", RoleCheck::kAsync},
      {"/health", RoleCheck::kHealth},
  };
  std::vector<Route> routes;
  for (const auto& [path, kind] : paths) routes.push_back({"GET", path, false, check(kind)});
  return routes;
}

}  // namespace pgrt
