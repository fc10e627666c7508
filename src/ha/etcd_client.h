// EtcdClient: etcd's v3 API through its documented JSON gateway (/v3/kv/*, /v3/lease/*,
// /v3/watch), spoken by libevent's HTTP client on pgrt's event loop, so nothing waits on the
// network: every call returns at once and its answer (or error, or timeout) arrives as a loop
// event. Keys and values are bytes (base64 on the wire); revisions and lease IDs are int64
// (strings on the wire). The leader election of src/ha/ is built on these calls.
//
// Failover: one endpoint at a time. Each call has a connection of its own, so it never waits
// behind another and always ends within the timeout. A call that gets no answer (refused,
// broken, or nothing within the timeout: a frozen or cut-off member accepts connections but
// never answers) moves the client to the next endpoint, once for all the calls that failed
// with it. Moving ends the watches made on the old endpoint (a watch on a frozen member would
// otherwise wait in silence); their owners re-read and re-watch through the endpoint in use.
//
// https:// endpoints are reached over TLS (etcd_tls.h: the server's chain and name are always
// verified; a client certificate for mutual TLS), every connection with a fresh SSL. With a user,
// the client authenticates
// (/v3/auth/authenticate) before its first call and sends the token with every call and
// watch; a token etcd no longer takes (expired, or the auth store changed) is replaced once
// and the call sent again. The password stays in this object's memory: it is never logged
// and never part of an error.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ha/etcd_connection.h"
#include "ha/etcd_tls.h"
#include "process/event_loop.h"
#include "util/status.h"

struct evdns_base;
struct evhttp_request;

namespace pgrt {

struct EtcdClientOptions {
  Millis timeout{2000};  // for each call, from sending it to its answer
  EtcdTlsOptions tls;    // for https:// endpoints
  std::string user;      // "" → no authentication
  std::string password;  // the user's; memory only
};

struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

// A read of one key: the key when present, and the store's revision when etcd answered. A
// watch from `revision + 1` sees every change after this read and nothing before it.
struct EtcdRead {
  std::optional<EtcdKeyValue> kv;
  int64_t revision = 0;
};

struct EtcdEvent {
  bool deleted = false;  // DELETE (or a lease expiry); else PUT
  EtcdKeyValue kv;
};

class EtcdWatch;

class EtcdClient {
 public:
  template <typename T>
  using Done = std::function<void(Result<T>)>;

  // Refuses endpoints that mix http:// and https://, and TLS files it cannot use.
  static Result<std::unique_ptr<EtcdClient>> Create(EventLoop& loop,
                                                    std::vector<EtcdEndpoint> endpoints,
                                                    EtcdClientOptions options);
  // http:// endpoints, no authentication.
  EtcdClient(EventLoop& loop, std::vector<EtcdEndpoint> endpoints, Millis timeout);
  ~EtcdClient();  // calls still open end without their callbacks; watches must be gone first
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // A lease of `ttl_seconds`; its ID.
  void GrantLease(int ttl_seconds, Done<int64_t> done);
  // One keepalive of `lease`: the TTL it has again, 0 when it had already expired.
  void KeepAlive(int64_t lease, Done<int64_t> done);
  // Ends `lease` now: every key bound to it is deleted.
  void Revoke(int64_t lease, Done<bool> done);

  // Writes `key` (bound to `lease` unless 0); the new revision.
  void Put(const std::string& key, const std::string& value, int64_t lease, Done<int64_t> done);
  // Writes `key` only when it does not exist (a compare-and-swap on create_revision == 0):
  // true when this call created it, false when someone holds it.
  void Create(const std::string& key, const std::string& value, int64_t lease, Done<bool> done);
  // Deletes `key` only while it holds `value` (releasing a key only when it is still ours).
  void DeleteIf(const std::string& key, const std::string& value, Done<bool> done);
  void Get(const std::string& key, Done<std::optional<EtcdKeyValue>> done);
  // Get with the store's revision: for a watch that must miss nothing after the read.
  void Read(const std::string& key, Done<EtcdRead> done);
  // Every key starting with `prefix`, in key order.
  void GetPrefix(const std::string& prefix, Done<std::vector<EtcdKeyValue>> done);

  // Events on `key` (or every key under it when `prefix`) from `start_revision` (0: from
  // now). `on_event` runs on the loop for each; `on_end` once when the watch stops (etcd
  // closed it, the connection broke, the client moved to another endpoint); destroying the
  // watch stops it without calling either.
  std::unique_ptr<EtcdWatch> Watch(const std::string& key, bool prefix, int64_t start_revision,
                                   std::function<void(const EtcdEvent&)> on_event,
                                   std::function<void(const Status&)> on_end);

  const EtcdEndpoint& endpoint() const { return endpoints_[current_]; }
  // How many times the client has authenticated (a new token each time); 0 without a user.
  int authentications() const { return authentications_; }

 private:
  friend class EtcdWatch;
  struct Call;
  using Answer = std::function<void(Result<std::string>)>;
  EtcdClient(EventLoop& loop, std::vector<EtcdEndpoint> endpoints, EtcdClientOptions options,
             std::unique_ptr<EtcdTls> tls);
  // POSTs `body` to `path` with the token when there is a user, replacing a stale token once;
  // `done` gets etcd's answer (JSON) or an error.
  void Post(const std::string& path, std::string body, Answer done);
  // One request on a connection of its own to the current endpoint, with `token` unless "".
  void Send(const std::string& path, const std::string& body, const std::string& token,
            Answer done);
  static void OnAnswer(evhttp_request* req, void* arg);
  // The token, authenticating first when there is none; `done` runs on the loop.
  void WithToken(Answer done);
  // `token` was refused: the next call authenticates again (unless a newer token came).
  void ForgetToken(const std::string& token);
  // A new connection to the current endpoint, with the call timeout.
  Result<std::unique_ptr<EtcdConnection>> Connection();
  // Moves to the next endpoint; see "Failover" above.
  void Failover();

  EventLoop& loop_;
  std::vector<EtcdEndpoint> endpoints_;
  size_t current_ = 0;
  EtcdClientOptions options_;
  std::unique_ptr<EtcdTls> tls_;  // for https:// endpoints
  evdns_base* dns_ = nullptr;
  // The calls in flight, each with its connection (freeing one ends its request without a
  // callback), and the watches made on the current endpoint, each with its liveness token.
  std::vector<std::unique_ptr<Call>> calls_;
  uint64_t generation_ = 0;  // failovers so far
  std::vector<std::pair<std::weak_ptr<bool>, EtcdWatch*>> watches_;
  std::string token_;
  std::vector<Answer> token_waiters_;  // non-empty while authenticating
  int authentications_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// A running watch; see EtcdClient::Watch. Its stream is read in etcd_watch.cc.
class EtcdWatch {
 public:
  ~EtcdWatch();
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

 private:
  friend class EtcdClient;
  EtcdWatch(EtcdClient& client, std::string body) : client_(client), body_(std::move(body)) {}
  // Authenticates when the client has a user, then opens the stream.
  void Start();
  void Open(const std::string& token);
  static void OnChunk(::evhttp_request* req, void* arg);
  static void OnDone(::evhttp_request* req, void* arg);
  void Feed(const char* data, size_t n);
  // etcd refused the stream's token (at `revision`, 0 when it did not say): a new one, and
  // the stream again.
  void Reauthenticate(int64_t revision);
  void End(const Status& st);
  // Ends the watch because its client left the endpoint: the stream is closed first.
  void Abandon(const Status& st);

  EtcdClient& client_;
  std::string body_;   // the create request
  std::string token_;  // the one the stream was opened with
  std::unique_ptr<EtcdConnection> conn_;
  std::string buffer_;
  bool ended_ = false;
  bool reauthenticated_ = false;
  bool restarting_ = false;  // between a refused token and the stream opened again
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::function<void(const EtcdEvent&)> on_event_;
  std::function<void(const Status&)> on_end_;
};

}  // namespace pgrt
