// A small blocking HTTP/1.1 client for the thin-client subcommands (`pgrt healthcheck`,
// `status`, `promote`, `backup`...): one request per connection, bounded connect and read
// times, the answer parsed with the same http-parser as the server. Not for the node itself,
// which never blocks.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tls/client_context.h"
#include "util/clock.h"
#include "util/status.h"

namespace pgrt {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  HttpClient(std::string host, int port, Millis connect_timeout, Millis read_timeout)
      : host_(std::move(host)),
        port_(port),
        connect_timeout_(connect_timeout),
        read_timeout_(read_timeout) {}

  // Fails (kUnavailable, kDeadlineExceeded) when the server cannot be reached or does not
  // answer in time; any HTTP status is an answer.
  Result<HttpAnswer> Request(const std::string& method, const std::string& target,
                             const std::vector<std::pair<std::string, std::string>>& headers = {},
                             const std::string& body = "");
  Result<HttpAnswer> Get(const std::string& target) { return Request("GET", target); }

  void set_read_timeout(Millis t) { read_timeout_ = t; }
  // HTTPS from now on, verified by `tls` (tls/client_context.h); an error here (a certificate
  // file that could not be read) fails every request with it rather than falling back to HTTP.
  void UseTls(Result<std::shared_ptr<ClientTlsContext>> tls) { tls_ = std::move(tls); }

 private:
  std::optional<Result<std::shared_ptr<ClientTlsContext>>> tls_;
  std::string host_;
  int port_;
  Millis connect_timeout_;
  Millis read_timeout_;
};

}  // namespace pgrt
