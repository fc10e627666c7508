// Router: the API's route table as an HttpHandler. Screen() decides from the request line
// and headers alone — unknown path 404, wrong method 405, missing or wrong token on a
// mutating route 401/403 — so a refused request never gets its body read. GET routes also
// answer HEAD (the server drops the body) and OPTIONS.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/api.h"
#include "http/server.h"

namespace pgrt {

class Router : public HttpHandler {
 public:
  // `client_cert_for_mutating`: a mutating call also needs a client certificate the API's CA
  // verified (PGRT_API_TLS_CA_FILE); 403 without one.
  Router(std::vector<Route> routes, std::string token, bool client_cert_for_mutating = false);

  std::optional<HttpResponse> Screen(const HttpRequest& head) override;
  void Handle(const HttpRequest& request, Responder respond) override;
  HttpResponse Error(int status, const std::string& reason) override;  // JSON

  // The route answering `method` on `path`; nullptr with `status` 404 or 405 otherwise.
  const Route* Find(const std::string& method, const std::string& path, int* status) const;

 private:
  std::vector<Route> routes_;
  std::string token_;
  bool client_cert_for_mutating_;
};

}  // namespace pgrt
