#include "api/router.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <string_view>

namespace pgrt {
namespace {

// "/" itself is exact (Patroni's primary check), not a prefix of every path.
bool PathMatches(std::string_view pattern, std::string_view path) {
  if (pattern.size() <= 1 || pattern.back() != '/') return pattern == path;
  if (path.substr(0, pattern.size()) != pattern) return false;
  return path.find('/', pattern.size()) == std::string_view::npos;
}

}  // namespace

Router::Router(std::vector<Route> routes, std::string token, bool client_cert_for_mutating)
    : routes_(std::move(routes)),
      token_(std::move(token)),
      client_cert_for_mutating_(client_cert_for_mutating) {}

const Route* Router::Find(const std::string& method, const std::string& path, int* status) const {
  const std::string& m = method == "HEAD" || method == "OPTIONS" ? "GET" : method;
  bool path_known = false;
  for (const Route& r : routes_) {
    if (!PathMatches(r.path, path)) continue;
    path_known = true;
    if (m == r.method) return &r;
  }
  *status = path_known ? 405 : 404;
  return nullptr;
}

std::optional<HttpResponse> Router::Screen(const HttpRequest& head) {
  int status = 0;
  const Route* route = Find(head.method, head.path, &status);
  if (route == nullptr)
    return JsonError(status, status == 404 ? "not found" : "method not allowed");
  if (route->mutating && client_cert_for_mutating_ && !head.client_cert_verified)
    return JsonError(403,
                     "mutating calls need a client certificate signed by PGRT_API_TLS_CA_FILE");
  if (route->mutating) return Authorize(token_, head);
  return std::nullopt;
}

void Router::Handle(const HttpRequest& request, Responder respond) {
  int status = 0;
  const Route* route = Find(request.method, request.path, &status);
  if (route == nullptr)  // Screen() let it through: cannot happen
    return respond(JsonError(status, "not found"));
  if (spdlog::should_log(spdlog::level::debug)) {
    // Paths only: query strings and headers may carry tokens.
    respond = [respond, method = request.method, path = request.path](HttpResponse r) {
      spdlog::debug("api {} {} → {}", method, path, r.status);
      respond(std::move(r));
    };
  }
  try {
    route->handler(request, respond);
  } catch (const std::exception& e) {
    spdlog::error("api {} {}: {}", request.method, request.path, e.what());
    respond(JsonError(500, "internal error"));
  }
}

HttpResponse Router::Error(int status, const std::string& reason) {
  return JsonError(status, reason);
}

}  // namespace pgrt
