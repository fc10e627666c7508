// The management API: a table of routes served over HTTP on its own threads. Handlers ask
// the node's state (NodeState, Timings) and postgres (DbProbe); they never change state
// directly. Errors are JSON {"error": "..."}; nothing in an answer reveals a secret.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/db_probe.h"
#include "config/config.h"
#include "node/state.h"
#include "node/timings.h"
#include "replication/control.h"
#include "util/clock.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace pgrt {

class BackupManager;
class MetricsCollector;

struct ApiContext {
  const Config& config;
  NodeState& state;
  Timings& timings;
  DbProbe& db;
  const Clock& clock;
  // Tells the node a control action succeeded (it records a promotion, re-observes).
  std::function<void(ControlVerb)> after_control;
  // Backups and dumps (null: none; the routes answer 503).
  BackupManager* backups = nullptr;
  // /metrics (null: the route answers 503).
  MetricsCollector* metrics = nullptr;
};

struct Route {
  const char* method;  // GET (also answers HEAD and OPTIONS), POST, DELETE
  const char* path;    // exact, or a regex when it contains '('
  bool mutating;       // needs the bearer token
  std::function<void(const httplib::Request&, httplib::Response&)> handler;
};

std::vector<Route> BuildRoutes(ApiContext& ctx);
std::vector<Route> BuildReplicationRoutes(ApiContext& ctx);
std::vector<Route> BuildRoleCheckRoutes(ApiContext& ctx);
std::vector<Route> BuildBackupRoutes(ApiContext& ctx);
std::vector<Route> BuildMetricsRoutes(ApiContext& ctx);

// 401 without a bearer token, 403 when it is wrong or no token is configured; else ok.
bool Authorize(const std::string& configured_token, const httplib::Request& req,
               httplib::Response& res);

void JsonError(httplib::Response& res, int status, const std::string& message);

class ApiServer {
 public:
  explicit ApiServer(ApiContext ctx);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds now (a taken port is a start-up error) and serves on a background thread.
  Status Start(const std::string& address, int port);
  void Stop();

 private:
  ApiContext ctx_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace pgrt
