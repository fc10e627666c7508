#include "ha/etcd_client.h"

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

namespace pgrt {
namespace {

using nlohmann::json;

// Long enough for etcd's progress notifications (every 10 minutes by default) to keep an idle
// watch alive; a dead peer ends the watch by then at the latest.
constexpr int kWatchTimeoutSeconds = 15 * 60;

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

// int64 fields come as strings; a field at its default value is left out.
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

// The first key after every key starting with `prefix` (etcd's range_end for a prefix).
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

}  // namespace

Result<std::vector<EtcdEndpoint>> ParseEtcdEndpoints(const std::string& list) {
  std::vector<EtcdEndpoint> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string url =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? list.size() + 1 : comma + 1;
    while (!url.empty() && url.front() == ' ') url.erase(url.begin());
    while (!url.empty() && url.back() == ' ') url.pop_back();
    if (url.empty()) continue;
    const std::string scheme = "http://";
    if (url.rfind("https://", 0) == 0)
      return Status::InvalidArgument(url + ": TLS to etcd is not supported yet; use http://");
    if (url.rfind(scheme, 0) != 0)
      return Status::InvalidArgument(url + ": expected http://HOST:PORT");
    std::string rest = url.substr(scheme.size());
    if (!rest.empty() && rest.back() == '/') rest.pop_back();
    EtcdEndpoint e;
    size_t colon;
    if (!rest.empty() && rest.front() == '[') {  // [v6]:port
      size_t close = rest.find(']');
      if (close == std::string::npos) return Status::InvalidArgument(url + ": unclosed [");
      e.host = rest.substr(1, close - 1);
      colon = rest.find(':', close);
    } else {
      colon = rest.rfind(':');
      e.host = rest.substr(0, colon);
    }
    if (colon != std::string::npos) {
      const std::string port = rest.substr(colon + 1);
      if (port.empty() || port.size() > 5 ||
          port.find_first_not_of("0123456789") != std::string::npos)
        return Status::InvalidArgument(url + ": bad port");
      e.port = std::stoi(port);
      if (e.port < 1 || e.port > 65535) return Status::InvalidArgument(url + ": bad port");
    }
    if (e.host.empty()) return Status::InvalidArgument(url + ": no host");
    out.push_back(e);
  }
  if (out.empty()) return Status::InvalidArgument("no etcd endpoint");
  return out;
}

struct EtcdClient::Call {
  EtcdClient* client;
  std::weak_ptr<bool> alive;
  std::function<void(Result<std::string>)> done;
};

EtcdClient::EtcdClient(EventLoop& loop, std::vector<EtcdEndpoint> endpoints, Millis timeout)
    : loop_(loop), endpoints_(std::move(endpoints)), timeout_(timeout) {
  // Names are resolved without blocking the loop (evdns); addresses need no resolving.
  dns_ = evdns_base_new(loop_.base(), EVDNS_BASE_INITIALIZE_NAMESERVERS);
}

EtcdClient::~EtcdClient() {
  *alive_ = false;
  if (conn_ != nullptr) evhttp_connection_free(conn_);
  if (dns_ != nullptr) evdns_base_free(dns_, 0);
}

evhttp_connection* EtcdClient::Connection() {
  if (conn_ != nullptr) return conn_;
  const EtcdEndpoint& e = endpoints_[current_];
  conn_ =
      evhttp_connection_base_new(loop_.base(), dns_, e.host.c_str(), static_cast<uint16_t>(e.port));
  if (conn_ == nullptr) return nullptr;
  timeval tv{static_cast<time_t>(timeout_.count() / 1000),
             static_cast<suseconds_t>((timeout_.count() % 1000) * 1000)};
  evhttp_connection_set_timeout_tv(conn_, &tv);
  return conn_;
}

void EtcdClient::Failover() {
  // The next call goes to the next endpoint; calls still queued on this connection end with
  // an error of their own.
  if (conn_ != nullptr) evhttp_connection_free(conn_);
  conn_ = nullptr;
  current_ = (current_ + 1) % endpoints_.size();
}

void EtcdClient::Post(const std::string& path, std::string body,
                      std::function<void(Result<std::string>)> done) {
  evhttp_connection* conn = Connection();
  if (conn == nullptr) return done(Status::Unavailable("etcd: cannot create a connection"));
  auto* call = new Call{this, alive_, std::move(done)};
  evhttp_request* req = evhttp_request_new(
      [](evhttp_request* r, void* arg) {
        std::unique_ptr<Call> c(static_cast<Call*>(arg));
        if (c->alive.expired()) return;
        const EtcdEndpoint where = c->client->endpoint();
        const std::string at = where.host + ":" + std::to_string(where.port);
        if (r == nullptr || evhttp_request_get_response_code(r) == 0) {
          c->client->Failover();
          return c->done(Status::Unavailable("etcd " + at + ": no answer"));
        }
        evbuffer* in = evhttp_request_get_input_buffer(r);
        std::string text(evbuffer_get_length(in), '\0');
        evbuffer_copyout(in, text.data(), text.size());
        const int code = evhttp_request_get_response_code(r);
        if (code != 200 && ParseAnswer(text).ok())
          return c->done(Status::Error("etcd " + at + ": HTTP " + std::to_string(code)));
        c->done(std::move(text));
      },
      call);
  if (req == nullptr) {
    delete call;
    return;
  }
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  const EtcdEndpoint& e = endpoints_[current_];
  evhttp_add_header(headers, "Host", (e.host + ":" + std::to_string(e.port)).c_str());
  evhttp_add_header(headers, "Content-Type", "application/json");
  evbuffer_add(evhttp_request_get_output_buffer(req), body.data(), body.size());
  if (evhttp_make_request(conn, req, EVHTTP_REQ_POST, path.c_str()) != 0) {
    // libevent freed the request; the call is ours to end.
    std::unique_ptr<Call> c(call);
    Failover();
    c->done(Status::Unavailable("etcd: cannot send the request"));
  }
}

void EtcdClient::GrantLease(int ttl_seconds, Done<int64_t> done) {
  Post("/v3/lease/grant", json{{"TTL", ttl_seconds}}.dump(),
       [done = std::move(done)](Result<std::string> body) {
         auto j = ParseAnswer(body);
         if (!j.ok()) return done(j.status());
         int64_t id = Int(*j, "ID");
         if (id == 0) return done(Status::Error("etcd: a lease without an ID"));
         done(id);
       });
}

void EtcdClient::KeepAlive(int64_t lease, Done<int64_t> done) {
  Post("/v3/lease/keepalive", json{{"ID", std::to_string(lease)}}.dump(),
       [done = std::move(done)](Result<std::string> body) {
         auto j = ParseAnswer(body);
         if (!j.ok()) return done(j.status());
         // A stream of one answer: {"result": {"ID", "TTL"}}; TTL left out when 0 (expired).
         done(Int(j->value("result", json::object()), "TTL"));
       });
}

void EtcdClient::Revoke(int64_t lease, Done<bool> done) {
  Post("/v3/lease/revoke", json{{"ID", std::to_string(lease)}}.dump(),
       [done = std::move(done)](Result<std::string> body) {
         auto j = ParseAnswer(body);
         if (!j.ok()) return done(j.status());
         done(true);
       });
}

void EtcdClient::Put(const std::string& key, const std::string& value, int64_t lease,
                     Done<int64_t> done) {
  json req = {{"key", Base64(key)}, {"value", Base64(value)}};
  if (lease != 0) req["lease"] = std::to_string(lease);
  Post("/v3/kv/put", req.dump(), [done = std::move(done)](Result<std::string> body) {
    auto j = ParseAnswer(body);
    if (!j.ok()) return done(j.status());
    done(Int(j->value("header", json::object()), "revision"));
  });
}

void EtcdClient::Create(const std::string& key, const std::string& value, int64_t lease,
                        Done<bool> done) {
  json put = {{"key", Base64(key)}, {"value", Base64(value)}};
  if (lease != 0) put["lease"] = std::to_string(lease);
  json txn = {{"compare", json::array({{{"key", Base64(key)},
                                        {"target", "CREATE"},
                                        {"result", "EQUAL"},
                                        {"create_revision", "0"}}})},
              {"success", json::array({{{"request_put", put}}})}};
  Post("/v3/kv/txn", txn.dump(), [done = std::move(done)](Result<std::string> body) {
    auto j = ParseAnswer(body);
    if (!j.ok()) return done(j.status());
    done(j->value("succeeded", false));
  });
}

void EtcdClient::DeleteIf(const std::string& key, const std::string& value, Done<bool> done) {
  json txn = {{"compare", json::array({{{"key", Base64(key)},
                                        {"target", "VALUE"},
                                        {"result", "EQUAL"},
                                        {"value", Base64(value)}}})},
              {"success", json::array({{{"request_delete_range", {{"key", Base64(key)}}}}})}};
  Post("/v3/kv/txn", txn.dump(), [done = std::move(done)](Result<std::string> body) {
    auto j = ParseAnswer(body);
    if (!j.ok()) return done(j.status());
    done(j->value("succeeded", false));
  });
}

void EtcdClient::Get(const std::string& key, Done<std::optional<EtcdKeyValue>> done) {
  Post("/v3/kv/range", json{{"key", Base64(key)}}.dump(),
       [done = std::move(done)](Result<std::string> body) {
         auto j = ParseAnswer(body);
         if (!j.ok()) return done(j.status());
         const json kvs = j->value("kvs", json::array());
         if (!kvs.is_array() || kvs.empty()) return done(std::optional<EtcdKeyValue>());
         auto kv = KeyValueOf(kvs[0]);
         if (!kv.ok()) return done(kv.status());
         done(std::optional<EtcdKeyValue>(*kv));
       });
}

void EtcdClient::GetPrefix(const std::string& prefix, Done<std::vector<EtcdKeyValue>> done) {
  Post("/v3/kv/range",
       json{{"key", Base64(prefix)}, {"range_end", Base64(PrefixEnd(prefix))}}.dump(),
       [done = std::move(done)](Result<std::string> body) {
         auto j = ParseAnswer(body);
         if (!j.ok()) return done(j.status());
         std::vector<EtcdKeyValue> out;
         for (const json& item : j->value("kvs", json::array())) {
           auto kv = KeyValueOf(item);
           if (!kv.ok()) return done(kv.status());
           out.push_back(*kv);
         }
         done(std::move(out));
       });
}

std::unique_ptr<EtcdWatch> EtcdClient::Watch(const std::string& key, bool prefix,
                                             int64_t start_revision,
                                             std::function<void(const EtcdEvent&)> on_event,
                                             std::function<void(const Status&)> on_end) {
  std::unique_ptr<EtcdWatch> w(new EtcdWatch());
  w->on_event_ = std::move(on_event);
  w->on_end_ = std::move(on_end);
  // A connection of its own: the stream holds it for as long as the watch lasts.
  const EtcdEndpoint& e = endpoints_[current_];
  w->conn_ =
      evhttp_connection_base_new(loop_.base(), dns_, e.host.c_str(), static_cast<uint16_t>(e.port));
  if (w->conn_ == nullptr) {
    w->End(Status::Unavailable("etcd: cannot create a connection"));
    return w;
  }
  evhttp_connection_set_timeout(w->conn_, kWatchTimeoutSeconds);
  json create = {{"key", Base64(key)}, {"progress_notify", true}};
  if (prefix) create["range_end"] = Base64(PrefixEnd(key));
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  const std::string body = json{{"create_request", create}}.dump();
  evhttp_request* req = evhttp_request_new(&EtcdWatch::OnDone, w.get());
  evhttp_request_set_chunked_cb(req, &EtcdWatch::OnChunk);
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Host", (e.host + ":" + std::to_string(e.port)).c_str());
  evhttp_add_header(headers, "Content-Type", "application/json");
  evbuffer_add(evhttp_request_get_output_buffer(req), body.data(), body.size());
  if (evhttp_make_request(w->conn_, req, EVHTTP_REQ_POST, "/v3/watch") != 0)
    w->End(Status::Unavailable("etcd: cannot send the watch request"));
  return w;
}

EtcdWatch::~EtcdWatch() {
  ended_ = true;  // freeing the connection ends the request without calling back
  if (conn_ != nullptr) evhttp_connection_free(conn_);
}

void EtcdWatch::OnChunk(evhttp_request* req, void* arg) {
  auto* w = static_cast<EtcdWatch*>(arg);
  evbuffer* in = evhttp_request_get_input_buffer(req);
  const size_t n = evbuffer_get_length(in);
  std::string data(n, '\0');
  evbuffer_remove(in, data.data(), n);
  w->Feed(data.data(), data.size());
}

void EtcdWatch::OnDone(evhttp_request* req, void* arg) {
  auto* w = static_cast<EtcdWatch*>(arg);
  if (req != nullptr && evhttp_request_get_response_code(req) == 200) {
    evbuffer* in = evhttp_request_get_input_buffer(req);
    const size_t n = evbuffer_get_length(in);
    if (n > 0) {
      std::string data(n, '\0');
      evbuffer_remove(in, data.data(), n);
      w->Feed(data.data(), data.size());
    }
  }
  w->End(Status::Unavailable("etcd: the watch ended"));
}

void EtcdWatch::Feed(const char* data, size_t n) {
  buffer_.append(data, n);
  // One JSON message per line: {"result": {"created"|"events"|...}} or {"error": ...}.
  for (size_t nl; !ended_ && (nl = buffer_.find('\n')) != std::string::npos;) {
    std::string line = buffer_.substr(0, nl);
    buffer_.erase(0, nl + 1);
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return End(Status::Error("etcd: a watch message that is not JSON"));
    if (j.contains("error")) return End(Status::Error("etcd: watch: " + j["error"].dump()));
    const json result = j.value("result", json::object());
    if (result.value("canceled", false))
      return End(
          Status::Error("etcd: watch canceled: " + result.value("cancel_reason", std::string())));
    for (const json& ev : result.value("events", json::array())) {
      auto kv = KeyValueOf(ev.value("kv", json::object()));
      if (!kv.ok()) return End(kv.status());
      EtcdEvent event{ev.value("type", std::string("PUT")) == "DELETE", *kv};
      on_event_(event);
      if (ended_) return;
    }
  }
}

void EtcdWatch::End(const Status& st) {
  if (ended_) return;
  ended_ = true;
  if (on_end_) on_end_(st);
}

}  // namespace pgrt
