// How the thin-client subcommands reach this node's management API: the address and port
// from PGRT_API_ADDRESS/PGRT_API_PORT alone (an unrelated bad variable must not break a
// health check), and the bearer token from PGRT_API_TOKEN or PGRT_API_TOKEN_FILE. With
// PGRT_API_TLS_CERT_FILE the API speaks HTTPS, and so do the clients: they verify the API
// against that certificate (tls/client_context.h) and present
// PGRT_API_TLS_CLIENT_CERT_FILE/_KEY_FILE when given.
#pragma once

#include <string>

#include "cli/http_client.h"
#include "config/config.h"

namespace pgrt {

std::string EnvOr(const Environment& env, const std::string& name, const std::string& fallback);

// `read_timeout_s`: how long one answer may take.
HttpClient LocalApi(const Environment& env, int read_timeout_s = 10);

std::string ApiToken(const Environment& env);

// The HTTPS client context LocalApi uses when PGRT_API_TLS_CERT_FILE is set.
Result<std::shared_ptr<ClientTlsContext>> LocalApiTls(const Environment& env);

}  // namespace pgrt
