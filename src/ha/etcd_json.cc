#include "ha/etcd_json.h"

#include <openssl/evp.h>

namespace pgrt::etcd_json {
namespace {

using nlohmann::json;

// etcd's words for a token it no longer takes: expired (simple tokens live --auth-token-ttl
// after their last use), unknown (etcd restarted), or older than the auth store.
bool NamesStaleToken(const std::string& message) {
  for (const char* stale :
       {"invalid auth token", "auth token is expired", "revision of auth store is old"})
    if (message.find(stale) != std::string::npos) return true;
  return false;
}

}  // namespace

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n);
  return out;
}

Result<std::string> Unbase64(const std::string& text) {
  if (text.empty()) return std::string();
  std::string out(3 * text.size() / 4 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return Status::InvalidArgument("etcd: bad base64");
  // EVP_DecodeBlock counts the padding's zero bytes.
  size_t pad = 0;
  if (text.size() >= 1 && text[text.size() - 1] == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

int64_t Int(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name)) return 0;
  const json& v = j[name];
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

Result<EtcdKeyValue> KeyValueOf(const json& kv) {
  EtcdKeyValue out;
  auto key = Unbase64(kv.value("key", std::string()));
  if (!key.ok()) return key.status();
  auto value = Unbase64(kv.value("value", std::string()));
  if (!value.ok()) return value.status();
  out.key = *key;
  out.value = *value;
  out.create_revision = Int(kv, "create_revision");
  out.mod_revision = Int(kv, "mod_revision");
  out.lease = Int(kv, "lease");
  return out;
}

std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char last = static_cast<unsigned char>(prefix.back());
    if (last < 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // every key
}

// A unary answer says it as {"code": 16, "message"}, a stream's error as {"error":
// {"grpc_code": 16, "message"}}, a watch as {"result": {"canceled", "cancel_reason"}}.
bool SaysStaleToken(const json& answer) {
  const json& e =
      answer.contains("error") && answer["error"].is_object() ? answer["error"] : answer;
  for (const char* field : {"code", "grpc_code"})
    if (e.contains(field) && e[field].is_number_integer() && e[field].get<int>() == 16)
      return true;  // gRPC's UNAUTHENTICATED
  for (const char* field : {"message", "cancel_reason"})
    if (e.contains(field) && e[field].is_string() && NamesStaleToken(e[field].get<std::string>()))
      return true;
  return false;
}

bool IsStaleToken(const Result<std::string>& answer) {
  if (!answer.ok()) return false;
  json j = json::parse(*answer, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("error") && SaysStaleToken(j);
}

std::string Excerpt(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line.empty() ? "" : ": " + line;
}

Result<json> ParseAnswer(const Result<std::string>& body) {
  if (!body.ok()) return body.status();
  json j = json::parse(*body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Error("etcd: an answer that is not JSON");
  if (j.contains("error")) {
    std::string message =
        j.contains("message") && j["message"].is_string() ? j["message"].get<std::string>() : "";
    if (message.empty())
      message = j["error"].is_string() ? j["error"].get<std::string>() : j.dump();
    return Status::Error("etcd: " + message);
  }
  return j;
}

}  // namespace pgrt::etcd_json
