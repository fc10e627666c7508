#include "api/api.h"

#include <httplib.h>
#include <sys/socket.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "api/bearer.h"

namespace pgrt {
namespace {
constexpr size_t kApiThreads = 24;
}  // namespace

void JsonError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
}

bool Authorize(const std::string& token, const httplib::Request& req, httplib::Response& res) {
  const std::optional<std::string> given = BearerToken(req.get_header_value("Authorization"));
  if (!given) {
    res.set_header("WWW-Authenticate", "Bearer");
    JsonError(res, 401, "missing bearer token");
    return false;
  }
  if (token.empty()) {
    JsonError(res, 403, "mutating calls are disabled: PGRT_API_TOKEN is not set");
    return false;
  }
  if (!TokensEqual(*given, token)) {
    JsonError(res, 403, "invalid token");
    return false;
  }
  return true;
}

ApiServer::ApiServer(ApiContext ctx) : ctx_(ctx), server_(std::make_unique<httplib::Server>()) {}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Start(const std::string& address, int port) {
  httplib::Server& s = *server_;
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
  // delayed ACKs add ~40 ms to every answer on a kept-alive connection.
  s.set_tcp_nodelay(true);
  // cpp-httplib's default adds SO_REUSEPORT, which lets a second node bind the same API
  // port and answer for this one; a taken port must be a start-up error instead.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // A kept-alive connection holds a worker: enough workers for a load balancer's checks
  // from several peers plus the occasional slow call (promote waits for postgres).
  s.new_task_queue = [] { return new httplib::ThreadPool(kApiThreads); };
  s.set_keep_alive_max_count(1000);
  s.set_read_timeout(5, 0);
  s.set_write_timeout(5, 0);
  s.set_payload_max_length(64 * 1024);
  std::vector<Route> routes = BuildRoutes(ctx_);
  for (auto* more :
       {&BuildReplicationRoutes, &BuildRoleCheckRoutes, &BuildBackupRoutes, &BuildMetricsRoutes}) {
    auto extra = (*more)(ctx_);
    routes.insert(routes.end(), extra.begin(), extra.end());
  }
  for (Route& r : routes) {
    auto handler = [token = ctx_.config.api_token, r](const httplib::Request& req,
                                                      httplib::Response& res) {
      if (r.mutating && !Authorize(token, req, res)) return;
      r.handler(req, res);
    };
    std::string m = r.method;
    if (m == "GET") {
      s.Get(r.path, handler);
      s.Options(r.path, handler);
    } else if (m == "POST") {
      s.Post(r.path, handler);
    } else if (m == "DELETE") {
      s.Delete(r.path, handler);
    }
  }
  // RFC 9112: a request with neither Content-Length nor Transfer-Encoding has an empty body.
  // cpp-httplib 0.11 answers such a POST (`curl -XPOST url`) with 400 instead; give it the
  // explicit zero length it wants. The Request is the server's own, non-const object.
  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding"))
      const_cast<httplib::Request&>(req).headers.emplace("Content-Length", "0");
    return httplib::Server::HandlerResponse::Unhandled;
  });
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty())
      JsonError(res, res.status, res.status == 404 ? "not found" : "HTTP error " + std::to_string(res.status));
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    JsonError(res, 500, "internal error");
  });
  s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    // Paths only: query strings and headers may carry tokens.
    spdlog::debug("api {} {} → {}", req.method, req.path, res.status);
  });
  std::string bind = address == "*" ? "0.0.0.0" : address;
  if (!s.bind_to_port(bind, port))
    return Status::Error("start API: bind " + bind + ":" + std::to_string(port) +
                         ": address in use or not available");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // cpp-httplib 0.11's stop() does nothing until the accept loop runs: a Stop() right after
  // Start() (a start-up failure) would leave the loop running and join() hanging forever.
  // The loop starts within microseconds; the bound only guards against the impossible.
  const SteadyTime deadline = ctx_.clock.Now() + std::chrono::seconds(5);
  while (!server_->is_running() && ctx_.clock.Now() < deadline) std::this_thread::yield();
  return Status::Ok();
}

void ApiServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pgrt
