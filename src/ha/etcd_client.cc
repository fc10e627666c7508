#include "ha/etcd_client.h"

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>

#include <algorithm>
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

// etcd's words for a token it no longer takes: expired (simple tokens live --auth-token-ttl
// after their last use), unknown (etcd restarted), or older than the auth store.
bool NamesStaleToken(const std::string& message) {
  for (const char* stale :
       {"invalid auth token", "auth token is expired", "revision of auth store is old"})
    if (message.find(stale) != std::string::npos) return true;
  return false;
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

// ": <the first line of `text`>", at most 200 bytes of it; "" for an empty text.
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

}  // namespace

struct EtcdClient::Call {
  EtcdClient* client;
  Answer done;
  std::string at;           // the endpoint's URL, for errors
  uint64_t generation = 0;  // the client's failovers when the call was made
  std::unique_ptr<EtcdConnection> conn;
};

Result<std::unique_ptr<EtcdClient>> EtcdClient::Create(EventLoop& loop,
                                                       std::vector<EtcdEndpoint> endpoints,
                                                       EtcdClientOptions options) {
  if (endpoints.empty()) return Status::InvalidArgument("no etcd endpoint");
  for (const EtcdEndpoint& e : endpoints)
    if (e.tls != endpoints.front().tls)
      return Status::InvalidArgument(EtcdUrl(endpoints.front()) + " and " + EtcdUrl(e) +
                                     ": etcd endpoints are all http:// or all https://");
  if (options.user.empty() && !options.password.empty())
    return Status::InvalidArgument("etcd: a password without a user");
  std::unique_ptr<EtcdTls> tls;
  if (endpoints.front().tls) {
    auto made = EtcdTls::Create(options.tls);
    if (!made.ok()) return made.status();
    tls = std::move(*made);
  }
  return std::unique_ptr<EtcdClient>(
      new EtcdClient(loop, std::move(endpoints), std::move(options), std::move(tls)));
}

EtcdClient::EtcdClient(EventLoop& loop, std::vector<EtcdEndpoint> endpoints, Millis timeout)
    : EtcdClient(loop, std::move(endpoints), EtcdClientOptions{timeout, {}, "", ""}, nullptr) {}

EtcdClient::EtcdClient(EventLoop& loop, std::vector<EtcdEndpoint> endpoints,
                       EtcdClientOptions options, std::unique_ptr<EtcdTls> tls)
    : loop_(loop),
      endpoints_(std::move(endpoints)),
      options_(std::move(options)),
      tls_(std::move(tls)) {
  // Names are resolved without blocking the loop (evdns); addresses need no resolving.
  dns_ = evdns_base_new(loop_.base(), EVDNS_BASE_INITIALIZE_NAMESERVERS);
}

EtcdClient::~EtcdClient() {
  *alive_ = false;
  // Before the resolver they may be using; their requests end without callbacks.
  calls_.clear();
  if (dns_ != nullptr) evdns_base_free(dns_, 0);
}

Result<std::unique_ptr<EtcdConnection>> EtcdClient::Connection() {
  // A fresh connection (and, over TLS, a fresh SSL) for every call: a call never waits behind
  // another that hangs (a frozen member accepts connections and never answers), so each ends
  // within the timeout on its own.
  auto made = EtcdConnection::Open(loop_.base(), dns_, endpoints_[current_], tls_.get());
  if (!made.ok()) return made.status();
  const Millis t = options_.timeout;
  timeval tv{static_cast<time_t>(t.count() / 1000),
             static_cast<suseconds_t>((t.count() % 1000) * 1000)};
  evhttp_connection_set_timeout_tv((*made)->get(), &tv);
  return std::move(*made);
}

void EtcdClient::Failover() {
  const Status moved = Status::Unavailable("etcd " + EtcdUrl(endpoints_[current_]) +
                                           ": abandoned for another endpoint");
  current_ = (current_ + 1) % endpoints_.size();
  ++generation_;
  auto watches = std::move(watches_);
  watches_.clear();
  // on_end may destroy other watches, or the client.
  const std::weak_ptr<bool> alive = alive_;
  for (auto& [token, w] : watches) {
    if (alive.expired()) return;
    if (!token.expired()) w->Abandon(moved);
  }
}

void EtcdClient::Post(const std::string& path, std::string body, Answer done) {
  if (options_.user.empty()) return Send(path, body, "", std::move(done));
  WithToken([this, path, body = std::move(body),
             done = std::move(done)](Result<std::string> token) mutable {
    if (!token.ok()) return done(token.status());
    // The retry keeps a copy: `body` is read by this Send while its callback is made.
    Send(path, body, *token,
         [this, path, body, used = *token,
          done = std::move(done)](Result<std::string> answer) mutable {
           if (!IsStaleToken(answer)) return done(std::move(answer));
           ForgetToken(used);
           WithToken([this, path, body = std::move(body),
                      done = std::move(done)](Result<std::string> fresh) mutable {
             if (!fresh.ok()) return done(fresh.status());
             Send(path, body, *fresh, std::move(done));
           });
         });
  });
}

void EtcdClient::WithToken(Answer done) {
  if (!token_.empty()) return done(token_);
  token_waiters_.push_back(std::move(done));
  if (token_waiters_.size() > 1) return;  // an authentication is under way
  // The body holds the password: it goes to etcd and nowhere else (no log, no error).
  const std::string body = json{{"name", options_.user}, {"password", options_.password}}.dump();
  Send("/v3/auth/authenticate", body, "", [this](Result<std::string> answer) {
    Result<std::string> token = Status::Error("unset");
    auto j = ParseAnswer(answer);
    if (!j.ok()) {
      token = Status::Make(
          j.status().IsUnavailable() ? StatusCode::kUnavailable : StatusCode::kPermissionDenied,
          "etcd: authenticate as " + options_.user + ": " + j.status().message());
    } else if (!j->contains("token") || !(*j)["token"].is_string() ||
               (*j)["token"].get<std::string>().empty()) {
      token =
          Status::Error("etcd: authenticate as " + options_.user + ": an answer without a token");
    } else {
      token_ = (*j)["token"].get<std::string>();
      ++authentications_;
      token = token_;
    }
    std::vector<Answer> waiters = std::move(token_waiters_);
    token_waiters_.clear();
    const std::weak_ptr<bool> alive = alive_;
    for (Answer& w : waiters) {
      if (alive.expired()) return;  // a waiter destroyed the client
      w(token);
    }
  });
}

void EtcdClient::ForgetToken(const std::string& token) {
  if (token_ == token) token_.clear();
}

void EtcdClient::Send(const std::string& path, const std::string& body, const std::string& token,
                      Answer done) {
  const EtcdEndpoint& e = endpoints_[current_];
  auto conn = Connection();
  if (!conn.ok())
    return done(
        Status::Make(conn.status().code(), "etcd " + EtcdUrl(e) + ": " + conn.status().message()));
  calls_.push_back(std::make_unique<Call>(
      Call{this, std::move(done), EtcdUrl(e), generation_, std::move(*conn)}));
  Call* call = calls_.back().get();
  evhttp_request* req = evhttp_request_new(&EtcdClient::OnAnswer, call);
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Host", EtcdHostPort(e).c_str());
  evhttp_add_header(headers, "Content-Type", "application/json");
  if (!token.empty()) evhttp_add_header(headers, "Authorization", token.c_str());
  evbuffer_add(evhttp_request_get_output_buffer(req), body.data(), body.size());
  if (evhttp_make_request(call->conn->get(), req, EVHTTP_REQ_POST, path.c_str()) != 0) {
    // libevent freed the request without calling back; the call is ours to end.
    std::unique_ptr<Call> c = std::move(calls_.back());
    calls_.pop_back();
    c->conn.reset();
    const std::weak_ptr<bool> alive = alive_;
    Failover();
    if (alive.expired()) return;  // a watch's on_end destroyed the client
    c->done(Status::Unavailable("etcd " + c->at + ": cannot send the request"));
  }
}

void EtcdClient::OnAnswer(evhttp_request* r, void* arg) {
  auto* raw = static_cast<Call*>(arg);
  EtcdClient* self = raw->client;
  // A call's connection is freed only with the call (which ends its request silently), so an
  // answered call is still in calls_.
  auto it = std::find_if(self->calls_.begin(), self->calls_.end(),
                         [raw](const std::unique_ptr<Call>& c) { return c.get() == raw; });
  if (it == self->calls_.end()) return;
  std::unique_ptr<Call> call = std::move(*it);
  self->calls_.erase(it);
  if (r == nullptr || evhttp_request_get_response_code(r) == 0) {
    const std::string tls = call->conn->TlsFailure();
    // libevent tolerates freeing a connection from its request's callback.
    call->conn.reset();
    // Only the first failure on an endpoint moves the client: calls made before it moved must
    // not move it again, past a good endpoint.
    const std::weak_ptr<bool> alive = self->alive_;
    if (call->generation == self->generation_) self->Failover();
    if (alive.expired()) return;  // a watch's on_end destroyed the client
    return call->done(Status::Unavailable("etcd " + call->at + ": " +
                                          (tls.empty() ? "no answer" : "TLS: " + tls)));
  }
  evbuffer* in = evhttp_request_get_input_buffer(r);
  std::string text(evbuffer_get_length(in), '\0');
  evbuffer_copyout(in, text.data(), text.size());
  const int code = evhttp_request_get_response_code(r);
  call->conn.reset();
  const std::string& at = call->at;
  if (code != 200) {
    // etcd's own errors are JSON objects with "error", for the caller's parser; anything else
    // (a refusal by the gateway in plain text, an answer that is no error) is told here.
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("error"))
      return call->done(
          Status::Error("etcd " + at + ": HTTP " + std::to_string(code) + Excerpt(text)));
  }
  call->done(std::move(text));
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
  Read(key, [done = std::move(done)](Result<EtcdRead> r) {
    if (!r.ok()) return done(r.status());
    done(std::move(r->kv));
  });
}

void EtcdClient::Read(const std::string& key, Done<EtcdRead> done) {
  Post("/v3/kv/range", json{{"key", Base64(key)}}.dump(),
       [done = std::move(done)](Result<std::string> body) {
         auto j = ParseAnswer(body);
         if (!j.ok()) return done(j.status());
         EtcdRead read;
         read.revision = Int(j->value("header", json::object()), "revision");
         const json kvs = j->value("kvs", json::array());
         if (kvs.is_array() && !kvs.empty()) {
           auto kv = KeyValueOf(kvs[0]);
           if (!kv.ok()) return done(kv.status());
           read.kv = *kv;
         }
         done(std::move(read));
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
  json create = {{"key", Base64(key)}, {"progress_notify", true}};
  if (prefix) create["range_end"] = Base64(PrefixEnd(key));
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  std::unique_ptr<EtcdWatch> w(new EtcdWatch(*this, json{{"create_request", create}}.dump()));
  w->on_event_ = std::move(on_event);
  w->on_end_ = std::move(on_end);
  // Ended by a failover; destroyed watches are forgotten here.
  std::erase_if(watches_, [](const auto& entry) { return entry.first.expired(); });
  watches_.emplace_back(w->alive_, w.get());
  w->Start();
  return w;
}

void EtcdWatch::Start() {
  if (client_.options_.user.empty()) return Open("");
  client_.WithToken([this, alive = std::weak_ptr<bool>(alive_)](Result<std::string> token) {
    if (alive.expired() || ended_) return;  // abandoned while authenticating
    if (!token.ok()) return End(token.status());
    Open(*token);
  });
}

void EtcdWatch::Open(const std::string& token) {
  token_ = token;
  // A connection of its own: the stream holds it for as long as the watch lasts.
  const EtcdEndpoint& e = client_.endpoint();
  auto conn = EtcdConnection::Open(client_.loop_.base(), client_.dns_, e, client_.tls_.get());
  if (!conn.ok())
    return End(Status::Make(conn.status().code(),
                            "etcd " + EtcdUrl(e) + ": watch: " + conn.status().message()));
  conn_ = std::move(*conn);
  evhttp_connection_set_timeout(conn_->get(), kWatchTimeoutSeconds);
  evhttp_request* req = evhttp_request_new(&EtcdWatch::OnDone, this);
  evhttp_request_set_chunked_cb(req, &EtcdWatch::OnChunk);
  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Host", EtcdHostPort(e).c_str());
  evhttp_add_header(headers, "Content-Type", "application/json");
  if (!token.empty()) evhttp_add_header(headers, "Authorization", token.c_str());
  evbuffer_add(evhttp_request_get_output_buffer(req), body_.data(), body_.size());
  if (evhttp_make_request(conn_->get(), req, EVHTTP_REQ_POST, "/v3/watch") != 0)
    End(Status::Unavailable("etcd " + EtcdUrl(e) + ": cannot send the watch request"));
}

EtcdWatch::~EtcdWatch() {
  ended_ = true;  // freeing the connection ends the request without calling back
  conn_.reset();
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
  const int code = req == nullptr ? 0 : evhttp_request_get_response_code(req);
  if (code != 0) {
    // What is left: the last messages of the stream, or an error answer that ends without a
    // newline (etcd's JSON, or a refusal by the gateway in plain text).
    evbuffer* in = evhttp_request_get_input_buffer(req);
    std::string data(evbuffer_get_length(in), '\0');
    evbuffer_remove(in, data.data(), data.size());
    if (code != 200 && !json::parse(w->buffer_ + data, nullptr, false).is_object())
      return w->End(Status::Error("etcd " + EtcdUrl(w->conn_->endpoint()) + ": watch: HTTP " +
                                  std::to_string(code) + Excerpt(w->buffer_ + data)));
    w->Feed(data.data(), data.size());
    if (!w->buffer_.empty()) w->Feed("\n", 1);
  }
  if (w->ended_ || w->restarting_) return;
  const std::string tls = code == 0 ? w->conn_->TlsFailure() : "";
  w->End(Status::Unavailable("etcd " + EtcdUrl(w->conn_->endpoint()) + ": " +
                             (tls.empty() ? "the watch ended" : "watch: TLS: " + tls)));
}

void EtcdWatch::Feed(const char* data, size_t n) {
  if (restarting_) return;  // the rest of a stream refused for its token
  buffer_.append(data, n);
  // One JSON message per line: {"result": {"created"|"events"|...}} or {"error": ...}.
  for (size_t nl; !ended_ && (nl = buffer_.find('\n')) != std::string::npos;) {
    std::string line = buffer_.substr(0, nl);
    buffer_.erase(0, nl + 1);
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return End(Status::Error("etcd: a watch message that is not JSON"));
    if (j.contains("error") && SaysStaleToken(j) && !token_.empty() && !reauthenticated_)
      return Reauthenticate(0);
    if (j.contains("error")) return End(Status::Error("etcd: watch: " + j["error"].dump()));
    const json result = j.value("result", json::object());
    if (result.value("canceled", false) && SaysStaleToken(result) && !token_.empty() &&
        !reauthenticated_)
      return Reauthenticate(Int(result.value("header", json::object()), "revision"));
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

void EtcdWatch::Reauthenticate(int64_t revision) {
  // Once per watch: a token refused again right after authenticating is not stale.
  reauthenticated_ = true;
  restarting_ = true;
  client_.ForgetToken(token_);
  // A watch "from now" goes on from the revision etcd refused it at, so that nothing written
  // while the new token is fetched is missed.
  json request = json::parse(body_, nullptr, /*allow_exceptions=*/false);
  if (revision > 0 && request.is_object() && request.contains("create_request") &&
      !request["create_request"].contains("start_revision")) {
    request["create_request"]["start_revision"] = std::to_string(revision + 1);
    body_ = request.dump();
  }
  // The stream's connection is freed outside its own callbacks.
  client_.loop_.AddTimer(Millis(0), [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired() || ended_) return;  // abandoned by a failover meanwhile
    restarting_ = false;
    conn_.reset();
    buffer_.clear();
    Start();
  });
}

void EtcdWatch::Abandon(const Status& st) {
  if (ended_) return;
  // Not called from this connection's own callbacks (a failover runs on the client's), so it
  // can be freed here; the request goes with it without calling back.
  ended_ = true;
  conn_.reset();
  if (on_end_) on_end_(st);
}

void EtcdWatch::End(const Status& st) {
  if (ended_) return;
  ended_ = true;
  if (on_end_) on_end_(st);
}

}  // namespace pgrt
