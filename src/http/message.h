// HTTP requests and responses as values, and the Responder that sends an answer. This
// layer knows nothing about pgrt's routes or postgres: api/ builds on it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgrt {

struct HttpRequest {
  std::string method;                                        // "GET", "POST", ...
  std::string target;                                        // as sent: path and query
  std::string path;                                          // percent-decoded
  std::string query;                                         // raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string peer;    // "address:port" of the client
  int http_minor = 1;  // HTTP/1.<minor>
  // Over TLS: the client presented a certificate that the server's CA verified.
  bool client_cert_verified = false;

  // The first header of that name (any case); nullopt when absent.
  std::optional<std::string> Header(std::string_view name) const;
  // The first query parameter of that name, percent- and '+'-decoded.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse Text(int status, std::string body);
};

// Sends the answer to one request. Called exactly once, on the loop thread; calling it
// after the client went away does nothing (the connection is simply gone).
using Responder = std::function<void(HttpResponse)>;

// "%41b+c" → "Ab c" when `plus_is_space`; malformed escapes are kept as they are.
std::string PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace pgrt
