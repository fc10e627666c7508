// The etcd client's endpoints and its connections to them: the endpoint list as etcd's own
// clients write it (all http:// or all https://), and one libevent HTTP connection to one
// endpoint, over plain TCP or over TLS (bufferevent_openssl, see etcd_tls.h), that remembers
// why it failed so that a call's error can say it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ha/etcd_tls.h"
#include "util/status.h"

struct event_base;
struct evdns_base;
struct evhttp_connection;

namespace pgrt {

struct EtcdEndpoint {
  std::string host;
  int port = 2379;
  bool tls = false;  // https://
};
// "http://127.0.0.1:2379,http://[::1]:2379" → endpoints. https:// URLs are accepted as well,
// but not mixed with http:// ones: a cluster is reached one way, and a list that says both is
// more likely a mistake than a plan.
Result<std::vector<EtcdEndpoint>> ParseEtcdEndpoints(const std::string& list);
// "[::1]:2379": the endpoint as HTTP's Host header writes it.
std::string EtcdHostPort(const EtcdEndpoint& endpoint);
// "https://[::1]:2379": the endpoint as a URL, for errors.
std::string EtcdUrl(const EtcdEndpoint& endpoint);

class EtcdConnection {
 public:
  // `tls` is required for an https:// endpoint and unused for an http:// one.
  static Result<std::unique_ptr<EtcdConnection>> Open(event_base* base, evdns_base* dns,
                                                      const EtcdEndpoint& endpoint,
                                                      const EtcdTls* tls);
  ~EtcdConnection();  // frees the connection: its requests end without their callbacks
  EtcdConnection(const EtcdConnection&) = delete;
  EtcdConnection& operator=(const EtcdConnection&) = delete;

  evhttp_connection* get() const { return conn_; }
  const EtcdEndpoint& endpoint() const { return endpoint_; }
  // A TLS connection whose socket has closed is spent: evhttp would reconnect it reusing the
  // old socket's SSL (cleared, but keeping the last session and these notes), so its owner
  // replaces it and every socket starts with a fresh SSL. A plain one reconnects by itself.
  bool spent() const { return endpoint_.tls && closed_; }
  // Why a request got no answer, when TLS knows ("the server's certificate does not name
  // ..."); "" otherwise.
  std::string TlsFailure() const;

 private:
  explicit EtcdConnection(const EtcdEndpoint& endpoint) : endpoint_(endpoint) {}
  static void OnClose(evhttp_connection* conn, void* arg);

  EtcdEndpoint endpoint_;
  TlsNotes notes_;  // filled in by the SSL's callbacks; outlives the SSL (freed with conn_)
  evhttp_connection* conn_ = nullptr;
  bool closed_ = false;
};

}  // namespace pgrt
