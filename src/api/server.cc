#include <spdlog/spdlog.h>

#include "api/api.h"
#include "api/bearer.h"
#include "api/router.h"

namespace pgrt {

HttpResponse JsonError(int status, const std::string& message) {
  return Json(status, nlohmann::json{{"error", message}});
}

HttpResponse Json(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump();
  return r;
}

RouteHandler Sync(std::function<HttpResponse(const HttpRequest&)> view) {
  return
      [view = std::move(view)](const HttpRequest& req, Responder respond) { respond(view(req)); };
}

std::optional<HttpResponse> Authorize(const std::string& token, const HttpRequest& req) {
  const std::optional<std::string> given = BearerToken(req.Header("authorization").value_or(""));
  if (!given) {
    HttpResponse r = JsonError(401, "missing bearer token");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  if (token.empty())
    return JsonError(403, "mutating calls are disabled: PGRT_API_TOKEN is not set");
  if (!TokensEqual(*given, token)) return JsonError(403, "invalid token");
  return std::nullopt;
}

HttpLimits ApiLimits() {
  HttpLimits l;  // the API's requests are small: a line, a few headers, no real body
  l.max_header_bytes = 16384;
  l.max_body_bytes = 65536;
  return l;
}

ApiServer::ApiServer(ApiContext ctx, EventLoop& loop, HttpLimits limits) : ctx_(ctx) {
  std::vector<Route> routes = BuildRoutes(ctx_);
  for (auto* more : {&BuildReplicationRoutes, &BuildRoleCheckRoutes, &BuildBackupRoutes,
                     &BuildMetricsRoutes, &BuildUiRoutes}) {
    auto extra = (*more)(ctx_);
    routes.insert(routes.end(), extra.begin(), extra.end());
  }
  router_ = std::make_unique<Router>(std::move(routes), ctx_.config.api_token,
                                     !ctx_.config.api_tls_ca_file.empty());
  server_ = std::make_unique<HttpServer>(loop, limits, *router_);
}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Start(const std::string& address, int port) {
  return server_->Listen(address, port).Wrap("start API");
}

void ApiServer::UseTls(std::function<SSL*()> new_ssl) { server_->UseTls(std::move(new_ssl)); }

void ApiServer::Stop() {
  if (server_) server_->Close();
}

}  // namespace pgrt
