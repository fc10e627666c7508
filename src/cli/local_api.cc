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
  return HttpClient(addr, port, Millis(2000), Millis(read_timeout_s * 1000LL));
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
