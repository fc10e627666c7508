#include "cli/local_api.h"

#include <cstdlib>

#include "util/fs.h"

namespace pgrt {

std::string EnvOr(const Environment& env, const std::string& name, const std::string& fallback) {
  auto it = env.find(name);
  return it == env.end() || it->second.empty() ? fallback : it->second;
}

HttpClient LocalApi(const Environment& env, int read_timeout_s) {
  std::string addr = EnvOr(env, "PGRT_API_ADDRESS", "127.0.0.1");
  if (addr == "0.0.0.0" || addr == "*") addr = "127.0.0.1";
  if (addr == "::") addr = "::1";
  int port = std::atoi(EnvOr(env, "PGRT_API_PORT", "3000").c_str());
  HttpClient client(addr, port, Millis(2000), Millis(read_timeout_s * 1000LL));
  if (!EnvOr(env, "PGRT_API_TLS_CERT_FILE", "").empty()) client.UseTls(LocalApiTls(env));
  return client;
}

Result<std::shared_ptr<ClientTlsContext>> LocalApiTls(const Environment& env) {
  ClientTlsOptions o;
  auto trusted = ReadFile(EnvOr(env, "PGRT_API_TLS_CERT_FILE", ""));
  if (!trusted.ok()) return trusted.status().Wrap("PGRT_API_TLS_CERT_FILE");
  o.trusted_cert_pem = std::move(*trusted);
  const std::string cert = EnvOr(env, "PGRT_API_TLS_CLIENT_CERT_FILE", "");
  if (!cert.empty()) {
    auto c = ReadFile(cert);
    if (!c.ok()) return c.status().Wrap("PGRT_API_TLS_CLIENT_CERT_FILE");
    auto k = ReadFile(EnvOr(env, "PGRT_API_TLS_CLIENT_KEY_FILE", ""));
    if (!k.ok()) return k.status().Wrap("PGRT_API_TLS_CLIENT_KEY_FILE");
    o.cert_pem = std::move(*c);
    o.key_pem = std::move(*k);
  }
  auto ctx = ClientTlsContext::Create(o);
  if (!ctx.ok()) return ctx.status().Wrap("API TLS");
  return std::shared_ptr<ClientTlsContext>(std::move(*ctx));
}

std::string ApiToken(const Environment& env) {
  std::string token = EnvOr(env, "PGRT_API_TOKEN", "");
  std::string file = EnvOr(env, "PGRT_API_TOKEN_FILE", "");
  if (token.empty() && !file.empty()) {
    auto content = ReadFile(file);
    if (content.ok()) {
      token = *content;
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    }
  }
  return token;
}

}  // namespace pgrt
