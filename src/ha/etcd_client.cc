// EtcdClient's calls and what carries them: a connection per call to the endpoint in use, the
// token (authenticating first, replacing a stale one once) and the failover. Watches are in
// etcd_watch.cc, the gateway's wire format in etcd_json.h.
#include "ha/etcd_client.h"

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ha/etcd_json.h"

namespace pgrt {

using etcd_json::Base64;
using etcd_json::Excerpt;
using etcd_json::Int;
using etcd_json::IsStaleToken;
using etcd_json::KeyValueOf;
using etcd_json::ParseAnswer;
using etcd_json::PrefixEnd;
using nlohmann::json;

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

}  // namespace pgrt
