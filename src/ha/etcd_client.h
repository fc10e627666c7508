// EtcdClient: etcd's v3 API through its documented JSON gateway (/v3/kv/*, /v3/lease/*,
// /v3/watch), spoken by libevent's HTTP client on pgrt's event loop, so nothing waits on the
// network: every call returns at once and its answer (or error, or timeout) arrives as a loop
// event. Keys and values are bytes (base64 on the wire); revisions and lease IDs are int64
// (strings on the wire). One endpoint at a time; a call that cannot reach it moves to the next
// for later calls. The leader election of src/ha/ is built on these calls.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process/event_loop.h"
#include "util/status.h"

struct evdns_base;
struct evhttp_connection;
struct evhttp_request;

namespace pgrt {

struct EtcdEndpoint {
  std::string host;
  int port = 2379;
};
// "http://127.0.0.1:2379,http://[::1]:2379" → endpoints; an https:// URL is refused here
// (TLS to etcd is not built yet).
Result<std::vector<EtcdEndpoint>> ParseEtcdEndpoints(const std::string& list);

struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;
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

  EtcdClient(EventLoop& loop, std::vector<EtcdEndpoint> endpoints, Millis timeout);
  ~EtcdClient();
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
  // Every key starting with `prefix`, in key order.
  void GetPrefix(const std::string& prefix, Done<std::vector<EtcdKeyValue>> done);

  // Events on `key` (or every key under it when `prefix`) from `start_revision` (0: from
  // now). `on_event` runs on the loop for each; `on_end` once when the watch stops (etcd
  // closed it, the connection broke); destroying the watch stops it without calling either.
  std::unique_ptr<EtcdWatch> Watch(const std::string& key, bool prefix, int64_t start_revision,
                                   std::function<void(const EtcdEvent&)> on_event,
                                   std::function<void(const Status&)> on_end);

  const EtcdEndpoint& endpoint() const { return endpoints_[current_]; }

 private:
  friend class EtcdWatch;
  struct Call;
  // POSTs `body` to `path`; `done` gets the parsed JSON answer or an error.
  void Post(const std::string& path, std::string body,
            std::function<void(Result<std::string>)> done);
  evhttp_connection* Connection();
  void Failover();

  EventLoop& loop_;
  std::vector<EtcdEndpoint> endpoints_;
  size_t current_ = 0;
  Millis timeout_;
  evdns_base* dns_ = nullptr;
  evhttp_connection* conn_ = nullptr;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// A running watch; see EtcdClient::Watch.
class EtcdWatch {
 public:
  ~EtcdWatch();
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

 private:
  friend class EtcdClient;
  EtcdWatch() = default;
  static void OnChunk(::evhttp_request* req, void* arg);
  static void OnDone(::evhttp_request* req, void* arg);
  void Feed(const char* data, size_t n);
  void End(const Status& st);

  evhttp_connection* conn_ = nullptr;
  std::string buffer_;
  bool ended_ = false;
  bool created_ = false;
  std::function<void(const EtcdEvent&)> on_event_;
  std::function<void(const Status&)> on_end_;
};

}  // namespace pgrt
