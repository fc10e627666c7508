// The management API: a table of routes served by an HttpServer on pgrt's event loop.
// Handlers render the node's state (NodeState, Timings) or ask postgres asynchronously
// (LiveProbe, the control connection); they never
// change state directly. Errors are JSON {"error": "..."}; nothing in an answer reveals a
// secret. HTTP status codes exist only in this directory.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/live_probe.h"
#include "config/config.h"
#include "http/message.h"
#include "http/server.h"
#include "node/controller.h"
#include "replication/control.h"
#include "state/node_state.h"
#include "state/timings.h"
#include "util/clock.h"

namespace pgrt {

class BackupManager;
class EventLoop;
class MetricsCollector;
class Router;

struct ApiContext {
  const Config& config;
  NodeState& state;
  Timings& timings;
  LiveProbe& probe;      // "can a client connect now?" (/__opr/health, /readiness)
  AsyncPgConn& control;  // replication control's connection
  const Clock& clock;
  // Tells the node a control action succeeded (it re-observes). `then` runs once the node
  // has observed postgres again (a view read next agrees).
  std::function<void(ControlVerb, std::function<void()> then)> after_control;
  // Role changes (the node's controller): `done` gets a message once the node runs in its
  // new role, or an error.
  using RoleDone = std::function<void(Result<std::string>)>;
  std::function<void(std::string why, RoleDone done)> promote;
  std::function<void(Upstream up, std::string why, RoleDone done)> follow;
  // PGRT_HA (null without): a planned switchover or a manual failover through the cluster.
  std::function<void(std::string leader, std::string candidate, bool failover, RoleDone done)>
      switchover;
  // The lifecycle (the node's controller): `done` gets the mode reached.
  std::function<void(std::string why, std::function<void(Mode)> done)> hibernate;
  std::function<void(std::string why, std::function<void(Mode)> done)> wake;
  // Backups and dumps (null: none; the routes answer 503).
  BackupManager* backups = nullptr;
  // /metrics (null: the route answers 503).
  MetricsCollector* metrics = nullptr;
};

using RouteHandler = std::function<void(const HttpRequest&, Responder)>;

struct Route {
  const char* method;  // GET (also answers HEAD and OPTIONS), POST, DELETE
  // Exact ("/" included), or a prefix ending in '/' whose remainder (without '/') is the
  // route's parameter, as in /__opr/replication/slot/{name}.
  const char* path;
  bool mutating;  // needs the bearer token, checked before the body is read
  RouteHandler handler;
};

// A handler that answers at once with a view of the request.
RouteHandler Sync(std::function<HttpResponse(const HttpRequest&)> view);

std::vector<Route> BuildRoutes(ApiContext& ctx);
std::vector<Route> BuildReplicationRoutes(ApiContext& ctx);
std::vector<Route> BuildRoleCheckRoutes(ApiContext& ctx);
std::vector<Route> BuildBackupRoutes(ApiContext& ctx);
std::vector<Route> BuildMetricsRoutes(ApiContext& ctx);
std::vector<Route> BuildUiRoutes(ApiContext& ctx);  // the status page and what it reads

// 401 without a bearer token, 403 when it is wrong or no token is configured; else nullopt.
std::optional<HttpResponse> Authorize(const std::string& configured_token, const HttpRequest& req);

HttpResponse JsonError(int status, const std::string& message);
HttpResponse Json(int status, const nlohmann::json& body);

// The limits of the API's connections (see HttpLimits); the defaults suit a node.
HttpLimits ApiLimits();

class ApiServer {
 public:
  ApiServer(ApiContext ctx, EventLoop& loop, HttpLimits limits = ApiLimits());
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds now (a taken port is a start-up error); requests are served while the loop runs.
  Status Start(const std::string& address, int port);
  // HTTPS for connections accepted from now on (HttpServer::UseTls).
  void UseTls(std::function<SSL*()> new_ssl);
  void Stop();

 private:
  ApiContext ctx_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace pgrt
