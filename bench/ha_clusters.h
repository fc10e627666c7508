// The peers of `pgrt_bench ha`: one etcd member (Debian's etcd-server), HAProxy routing to the
// node whose API answers GET /primary 200, and two three-node HA clusters on that etcd — pgrt
// (PGRT_HA=etcd) and Patroni 3.0.2 (Debian's) — behind one interface, so every figure drives
// both the same way. Everything runs on free 127.0.0.1 ports in temp dirs; processes are
// stopped by PID when their owner goes away.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/harness.h"
#include "process/child.h"
#include "util/status.h"

namespace pgrt::bench {

class Etcd {
 public:
  Etcd();
  Status Start();
  int port() const { return client_port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }
  // grpc_server_started_total on /metrics, per method ("Put", "LeaseKeepAlive", ...): one
  // per unary request and one per stream opened (the HTTP gateway both managers use turns
  // each call into one RPC). Empty when /metrics cannot be read.
  std::map<std::string, double> RequestsByMethod() const;

 private:
  testing::TempDir dir_;
  int client_port_, peer_port_;
  std::optional<Child> child_;
};

// How one HA manager's cluster is run: which manager, its leader lease and loop.
struct HaSetup {
  enum Kind { kPgrt, kPatroni } kind;
  int ttl;                    // s: the leader lease
  int loop_wait = 0;          // s: Patroni's loop (pgrt derives its own from the TTL)
  int retry_timeout = 0;      // s: Patroni's DCS retry deadline
  std::string Label() const;  // "pgrt ttl=3", "patroni ttl=30/loop_wait=10/retry=10"
};

// Three nodes of one manager on the etcd; index 0..2.
class HaCluster {
 public:
  virtual ~HaCluster() = default;
  virtual Status StartAll() = 0;
  virtual std::string Name(int i) const = 0;
  virtual int api_port(int i) const = 0;
  virtual int pg_port(int i) const = 0;
  virtual pid_t ManagerPid(int i) const = 0;
  virtual pid_t PostmasterPid(int i) const = 0;
  // Starts node i's manager again on its existing data (after a kill or a SIGTERM).
  virtual Status Restart(int i) = 0;
  // After the manager was signalled: waits (bounded) for it to exit and reaps it.
  virtual void Reap(int i) = 0;
  // The planned switchover from `leader` to `candidate`, asked through node `leader`'s API;
  // the HTTP status.
  virtual int Switchover(int leader, int candidate) = 0;
  // libpq parameters for a superuser connection, host and port left to the caller.
  virtual testing::Env ConnBase() const = 0;
  virtual std::string Logs() const = 0;

  // The index of the one node whose /primary answers 200; -1 when none or several do.
  int Primary() const;
  // Until one node leads and both others answer /replica 200, without a change for 3 s; its
  // index, -1 on timeout.
  int WaitSettled(testing::milliseconds timeout) const;
};

std::unique_ptr<HaCluster> MakeCluster(const HaSetup& setup, const Etcd& etcd);

// HAProxy in front of `c`: checks GET /primary on each node's API every 200 ms.
class Haproxy {
 public:
  explicit Haproxy(const HaCluster& c);
  Status Start();
  int port() const { return front_; }

 private:
  const HaCluster& cluster_;
  testing::TempDir dir_;
  int front_;
  std::optional<Child> child_;
};

// utime+stime of a process in seconds (/proc/PID/stat, every thread); -1 when unknown.
double CpuSeconds(pid_t pid);

}  // namespace pgrt::bench
