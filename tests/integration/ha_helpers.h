// Shared set-up for the HA tests: one etcd (Debian's etcd-server) and pgrt nodes run with
// the same environment (PGRT_HA=etcd), each a real `pgrt run` on free loopback ports.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "integration/etcd_cluster.h"
#include "integration/replication_helpers.h"

namespace pgrt::testing::ha {

using namespace pgrt::testing::repl;

inline constexpr int kTtl = 3;
using Clock = std::chrono::steady_clock;

// Inserts first, first+1, ... into t on `node` over one connection until stopped (or 60 s, or
// 100000 rows), reconnecting after errors; remembers when the last commit was acknowledged.
class Writer {
 public:
  explicit Writer(const PgrtNode& node, int first = 100000) : params_(node.Conn()), first_(first) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Writer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int acknowledged() const { return acked_; }
  // The values acknowledged: first() .. first() + acknowledged() - 1 (one at a time).
  int first() const { return first_; }
  Clock::time_point last_ack() const { return last_ack_; }

 private:
  void Run() {
    const auto end = Clock::now() + std::chrono::seconds(60);
    int next = first_;
    while (!stop_ && Clock::now() < end && acked_ < 100000) {
      auto conn = PgConn::Connect(params_);
      if (!conn.ok()) {
        std::this_thread::sleep_for(milliseconds(20));
        continue;
      }
      while (!stop_ && Clock::now() < end) {
        auto r = conn->Exec("INSERT INTO t VALUES (" + std::to_string(next) + ")");
        if (!r.ok()) break;
        last_ack_ = Clock::now();
        ++acked_;
        ++next;
      }
    }
  }
  ConnParams params_;
  int first_;
  std::atomic<bool> stop_{false};
  std::atomic<int> acked_{0};
  std::atomic<Clock::time_point> last_ack_{};
  std::thread thread_;
};

// How a Cluster's etcd is made: one member (the default) or a cluster of several on loopback,
// with TLS, client certificates and a root password optional.
// (etcd_members first: a braced Env given to Cluster's other constructor is no ClusterOptions.)
struct ClusterOptions {
  int etcd_members = 1;       // 3: a raft cluster; every node lists every member
  Env env;                    // merged over every node's environment
  EtcdServerOptions etcd;     // TLS and client certificates
  std::string etcd_password;  // authentication as root
};

class Cluster {
 public:
  // `etcd`: TLS and client certificates; `etcd_password`: authentication as root.
  explicit Cluster(int size, const Env& extra = {}, EtcdServerOptions etcd = {},
                   const std::string& etcd_password = "")
      : Cluster(size, ClusterOptions{1, extra, std::move(etcd), etcd_password}) {}
  Cluster(int size, ClusterOptions options) : etcd_(options.etcd_members, options.etcd) {
    etcd_.Start();
    if (!options.etcd_password.empty()) etcd_.EnableAuth(options.etcd_password);
    std::random_device rd;
    const std::string name = "t" + std::to_string(rd() % 1000000);
    for (int i = 0; i < size; ++i) {
      Env env = {{"PGRT_HA", "etcd"},
                 {"PGRT_ETCD_ENDPOINTS", etcd_.endpoints()},
                 {"PGRT_CLUSTER_NAME", name},
                 {"PGRT_NODE_NAME", "n" + std::to_string(i + 1)},
                 {"PGRT_ADVERTISE_HOST", "127.0.0.1"},
                 {"PGRT_HA_TTL", std::to_string(kTtl)},
                 {"POSTGRES_REPLICATION_PASSWORD", kReplicationPassword},
                 {"PGRT_API_TOKEN", kApiToken}};
      if (options.etcd.tls) env["PGRT_ETCD_CA_FILE"] = etcd_.certs().ca;
      if (options.etcd.client_cert_auth) {
        env["PGRT_ETCD_CERT_FILE"] = etcd_.certs().client_cert;
        env["PGRT_ETCD_KEY_FILE"] = etcd_.certs().client_key;
      }
      if (!options.etcd_password.empty()) {
        env["PGRT_ETCD_USERNAME"] = "root";
        env["PGRT_ETCD_PASSWORD"] = options.etcd_password;
      }
      for (const auto& [k, v] : options.env) env[k] = v;
      nodes_.push_back(std::make_unique<PgrtNode>(env));
    }
  }
  PgrtNode& node(int i) { return *nodes_[i]; }
  int size() const { return static_cast<int>(nodes_.size()); }
  EtcdCluster& etcd() { return etcd_; }

  void StartAll() {
    for (auto& n : nodes_) n->Start();
  }
  // The index of the one node whose /primary answers 200, -1 when none or several do. A node
  // whose pgrt is frozen (SIGSTOP) answers nothing for a minute: pass it as `skip`.
  int Primary(int skip = -1) {
    int found = -1;
    for (int i = 0; i < size(); ++i) {
      if (i == skip || !nodes_[i]->running()) continue;
      if (nodes_[i]->Get("/primary").status != 200) continue;
      if (found >= 0) return -1;
      found = i;
    }
    return found;
  }
  // Until one node leads, every other running node answers /replica 200 and the leader's
  // /cluster lists every running node (member records are published each second, so a
  // replica can stream before the leader sees its record); the leader's index.
  int WaitSettled(milliseconds timeout = milliseconds(90000)) {
    int leader = -1;
    WaitUntil(
        [&] {
          leader = Primary();
          if (leader < 0) return false;
          size_t running = 0;
          for (int i = 0; i < size(); ++i) {
            if (!nodes_[i]->running()) continue;
            ++running;
            if (i != leader && nodes_[i]->Get("/replica").status != 200) return false;
          }
          auto view = GetJson(nodes_[leader]->api_port(), "/cluster");
          return view && (*view)["members"].size() == running;
        },
        timeout, milliseconds(100));
    return leader;
  }
  std::string Logs() {
    std::string out;
    for (int i = 0; i < size(); ++i)
      out += "---- n" + std::to_string(i + 1) + " ----\n" + nodes_[i]->Log();
    return out;
  }

 private:
  EtcdCluster etcd_;
  std::vector<std::unique_ptr<PgrtNode>> nodes_;
};

}  // namespace pgrt::testing::ha
