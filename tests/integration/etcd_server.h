// EtcdServer: a single etcd member for tests (an EtcdCluster of one, see etcd_cluster.h), on
// free loopback ports in a temporary directory; killed (SIGKILL) and reaped by PID when it
// goes out of scope. Optionally over TLS (throwaway certificates, etcd_certs.h), requiring
// client certificates, and with authentication enabled (EnableAuth).
#pragma once

#include <string>

#include "integration/etcd_cluster.h"

namespace pgrt::testing {

class EtcdServer : public EtcdCluster {
 public:
  explicit EtcdServer(EtcdServerOptions options = {}) : EtcdCluster(1, std::move(options)) {}
  using EtcdCluster::port;
  using EtcdCluster::Stop;
  using EtcdCluster::url;
  void Stop() { Kill(0); }
  int port() const { return EtcdCluster::port(0); }
  std::string url() const { return EtcdCluster::url(0); }
};

}  // namespace pgrt::testing
