// EtcdClient::Watch and EtcdWatch (etcd_client.h): one stream of the gateway's /v3/watch on a
// connection of its own, read as it comes (one JSON message per line), opened again once with
// a new token when etcd refuses the old one, and ended when the stream ends or the client
// moves to another endpoint.
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <nlohmann/json.hpp>

#include "ha/etcd_client.h"
#include "ha/etcd_json.h"

namespace pgrt {
namespace {

using etcd_json::Base64;
using etcd_json::Excerpt;
using etcd_json::Int;
using etcd_json::KeyValueOf;
using etcd_json::PrefixEnd;
using etcd_json::SaysStaleToken;
using nlohmann::json;

// Long enough for etcd's progress notifications (every 10 minutes by default) to keep an idle
// watch alive; a dead peer ends the watch by then at the latest.
constexpr int kWatchTimeoutSeconds = 15 * 60;

}  // namespace

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
