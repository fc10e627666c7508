// EtcdCluster: an etcd cluster of N members (Debian's etcd-server) for tests, each member on
// free loopback ports with its own data directory and log file in one temporary directory.
// Members can be killed (SIGKILL), frozen (SIGSTOP) and thawed, and restarted on their data
// directory to rejoin; each one is a Child, so whatever is still running is killed and reaped
// by PID when the cluster goes out of scope. Raft runs on short timings (kHeartbeat,
// kElectionTimeout) so losing the etcd leader costs a fraction of a second. Optionally over
// TLS (throwaway certificates, etcd_certs.h), requiring client certificates, and with
// authentication enabled (a root user made with etcdctl); /health goes to each member's
// plain-HTTP metrics port whatever the client URLs ask for.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness/harness.h"
#include "integration/etcd_certs.h"
#include "process/child.h"
#include "util/unique_fd.h"

namespace pgrt::testing {

struct EtcdServerOptions {
  bool tls = false;  // https:// client URLs
  // The server certificate's subjectAltNames.
  std::string server_names = "IP:127.0.0.1,DNS:localhost";
  bool client_cert_auth = false;  // clients must show a certificate of the CA
  int auth_token_ttl = 0;         // seconds a simple token lives after its last use; 0: etcd's
};

class EtcdCluster {
 public:
  // Raft's heartbeat and election timeout. Measured on a 2-core machine at load 7 (two CPU
  // burners and three clusters at once): 50/250 ms, and even 25/150 ms, kept their first
  // leader for 60 s; etcd's defaults (100/1000 ms) would make every etcd election in these
  // tests cost over a second.
  static constexpr int kHeartbeatMs = 50;
  static constexpr int kElectionTimeoutMs = 250;

  explicit EtcdCluster(int size = 3, EtcdServerOptions options = {})
      : options_(std::move(options)), members_(size) {
    // Every port distinct: a port just closed may be handed out again.
    std::vector<int> taken;
    for (int i = 0; i < size; ++i) {
      members_[i].name = "m" + std::to_string(i);
      members_[i].client_port = OtherFreePort(taken);
      members_[i].peer_port = OtherFreePort(taken);
      members_[i].health_port = OtherFreePort(taken);
    }
  }
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // Starts every member and waits until the cluster has a leader.
  void Start() {
    if (options_.tls && certs_.ca.empty())
      certs_ = MakeEtcdCerts(dir_.path(), options_.server_names);
    for (int i = 0; i < size(); ++i) ASSERT_NO_FATAL_FAILURE(Spawn(i));
    ASSERT_TRUE(WaitHealthy()) << Logs();
  }

  int size() const { return static_cast<int>(members_.size()); }
  int port(int i) const { return members_[i].client_port; }
  std::string url(int i) const {
    return (options_.tls ? "https://" : "http://") + std::string("127.0.0.1:") +
           std::to_string(port(i));
  }
  const EtcdCerts& certs() const { return certs_; }  // made by Start() when TLS
  // "http://127.0.0.1:p0,http://127.0.0.1:p1,..." (a node's ETCD endpoint list).
  std::string endpoints() const {
    std::string out;
    for (int i = 0; i < size(); ++i) out += (i ? "," : "") + url(i);
    return out;
  }
  // The member serving client port `port`, -1 for none.
  int IndexOfPort(int port) const {
    for (int i = 0; i < size(); ++i)
      if (members_[i].client_port == port) return i;
    return -1;
  }
  bool running(int i) const { return members_[i].child.has_value(); }
  pid_t pid(int i) const { return running(i) ? members_[i].child->pid() : 0; }

  // SIGKILL, then reaped: a crash (or a machine gone) from etcd's point of view.
  void Kill(int i) { members_[i].child.reset(); }
  // A frozen member: its sockets still accept connections, but nothing answers.
  void Stop(int i) {
    ASSERT_TRUE(running(i));
    ASSERT_TRUE(members_[i].child->Signal(SIGSTOP).ok());
    members_[i].stopped = true;
  }
  void Cont(int i) {
    ASSERT_TRUE(running(i));
    ASSERT_TRUE(members_[i].child->Signal(SIGCONT).ok());
    members_[i].stopped = false;
  }
  // Starts a killed member again on its data directory: it rejoins as the member it was.
  void Restart(int i) {
    Kill(i);
    ASSERT_NO_FATAL_FAILURE(Spawn(i));
  }

  // The index of the member every running, unfrozen member names as the raft leader (from
  // /v3/maintenance/status); -1 while they disagree or none has one.
  int LeaderIndex() const {
    std::optional<std::string> leader;
    for (int i = 0; i < size(); ++i) {
      if (!running(i) || members_[i].stopped) continue;
      const std::optional<MemberStatus> s = StatusOf(i);
      if (!s || s->leader.empty() || s->leader == "0") return -1;
      if (leader && *leader != s->leader) return -1;
      leader = s->leader;
    }
    if (!leader) return -1;
    for (int i = 0; i < size(); ++i) {
      if (!running(i) || members_[i].stopped) continue;
      const std::optional<MemberStatus> s = StatusOf(i);
      if (s && s->member_id == *leader) return i;
    }
    return -1;  // the leader named is a member that is down or frozen
  }

  // Hands the raft leadership to member `i` (etcd's MoveLeader, asked of the current leader);
  // true once every running member names it. Plain-HTTP clusters only (see StatusOf).
  bool MoveLeaderTo(int i, milliseconds timeout = milliseconds(10000)) const {
    const std::optional<MemberStatus> target = StatusOf(i);
    if (!target) return false;
    return WaitUntil(
        [&] {
          const int leader = LeaderIndex();
          if (leader == i) return true;
          if (leader >= 0) {
            const std::string body = nlohmann::json{{"targetID", target->member_id}}.dump();
            HttpRequest(port(leader), "POST", "/v3/maintenance/transfer-leadership", "", body);
          }
          return false;
        },
        timeout, milliseconds(100));
  }

  // Until every running, unfrozen member answers /health with "true" (it has a leader and
  // serves requests).
  bool WaitHealthy(milliseconds timeout = milliseconds(20000)) const {
    return WaitUntil(
        [&] {
          for (int i = 0; i < size(); ++i) {
            if (!running(i) || members_[i].stopped) continue;
            const HttpResponse r = HttpGet(members_[i].health_port, "/health");
            if (r.status != 200 || r.body.find("\"true\"") == std::string::npos) return false;
          }
          return true;
        },
        timeout, milliseconds(20));
  }

  // A user root with `password` (given to etcdctl on its stdin), then authentication on.
  void EnableAuth(const std::string& password) {
    ASSERT_NO_FATAL_FAILURE(Etcdctl({"user", "add", "root", "--interactive=false"}, password));
    ASSERT_NO_FATAL_FAILURE(Etcdctl({"auth", "enable"}, ""));
  }

  // The tail of every member's log, for failure messages.
  std::string Logs(size_t tail = 3000) const {
    std::string out;
    for (const Member& m : members_) {
      std::string log = ReadFileOrEmpty(m.log_path);
      if (log.size() > tail) log = "..." + log.substr(log.size() - tail);
      out += "--- etcd " + m.name + " (" + m.log_path + ")\n" + log + "\n";
    }
    return out;
  }

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    int health_port = 0;  // /health and /metrics over plain HTTP
    std::string log_path;
    UniqueFd log;
    std::optional<Child> child;
    bool stopped = false;
  };
  struct MemberStatus {
    std::string member_id;
    std::string leader;
  };

  std::string PeerUrl(int i) const {
    return "http://127.0.0.1:" + std::to_string(members_[i].peer_port);
  }

  void Spawn(int i) {
    Member& m = members_[i];
    std::string initial_cluster;
    for (int j = 0; j < size(); ++j)
      initial_cluster += (j ? "," : "") + members_[j].name + "=" + PeerUrl(j);
    SpawnSpec spec;
    spec.name = "etcd " + m.name;
    // --initial-cluster* only matter on the first start; a restart reads its data directory.
    spec.argv = {"/usr/bin/etcd", "--name=" + m.name, "--data-dir=" + dir_.Sub(m.name),
                 "--listen-client-urls=" + url(i), "--advertise-client-urls=" + url(i),
                 "--listen-peer-urls=" + PeerUrl(i), "--initial-advertise-peer-urls=" + PeerUrl(i),
                 "--initial-cluster=" + initial_cluster, "--initial-cluster-state=new",
                 "--initial-cluster-token=pgrt-test",
                 "--heartbeat-interval=" + std::to_string(kHeartbeatMs),
                 "--election-timeout=" + std::to_string(kElectionTimeoutMs),
                 // /health over plain HTTP whatever the client URLs ask for.
                 "--listen-metrics-urls=http://127.0.0.1:" + std::to_string(m.health_port),
                 "--log-level=info"};
    if (options_.tls) {
      spec.argv.push_back("--cert-file=" + certs_.server_cert);
      spec.argv.push_back("--key-file=" + certs_.server_key);
    }
    // etcd asks every client for a certificate once it has a CA to check them against.
    if (options_.client_cert_auth) {
      spec.argv.push_back("--trusted-ca-file=" + certs_.ca);
      spec.argv.push_back("--client-cert-auth");
    }
    if (options_.auth_token_ttl > 0)
      spec.argv.push_back("--auth-token-ttl=" + std::to_string(options_.auth_token_ttl));
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    m.log_path = dir_.Sub(m.name + ".log");
    // Appended to, so a restarted member's log follows its earlier life.
    m.log = UniqueFd(::open(m.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    ASSERT_TRUE(m.log) << m.log_path;
    spec.stdout_fd = m.log.get();
    spec.stderr_fd = m.log.get();
    auto child = Child::Spawn(spec);
    ASSERT_TRUE(child.ok()) << child.status().message();
    m.child.emplace(std::move(*child));
    m.stopped = false;
  }

  // A free port that is none of `taken`; added to it.
  static int OtherFreePort(std::vector<int>& taken) {
    int port = FreePort();
    for (int i = 0; i < 20 && std::find(taken.begin(), taken.end(), port) != taken.end(); ++i)
      port = FreePort();
    taken.push_back(port);
    return port;
  }

  void Etcdctl(const std::vector<std::string>& args, const std::string& input) {
    SpawnSpec spec;
    spec.name = "etcdctl";
    spec.argv = {"/usr/bin/etcdctl", "--endpoints=" + endpoints()};
    if (options_.tls) {
      spec.argv.push_back("--cacert=" + certs_.ca);
      spec.argv.push_back("--cert=" + certs_.client_cert);
      spec.argv.push_back("--key=" + certs_.client_key);
    }
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env = {{"PATH", "/usr/bin:/bin"}, {"ETCDCTL_API", "3"}};
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    const std::string line = input + "\n";  // small: fits the pipe before etcdctl reads it
    ASSERT_EQ(::write(write_end.get(), line.data(), line.size()),
              static_cast<ssize_t>(line.size()));
    write_end = UniqueFd();
    const std::string out = dir_.Sub("etcdctl.log");
    UniqueFd log(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ASSERT_TRUE(log) << out;
    spec.stdin_fd = read_end.get();
    spec.stdout_fd = log.get();
    spec.stderr_fd = log.get();
    auto child = Child::Spawn(spec);
    ASSERT_TRUE(child.ok()) << child.status().message();
    auto status = child->Wait();
    ASSERT_TRUE(status.ok());
    ASSERT_EQ(ExitCode(*status), 0) << "etcdctl " << args[0] << ": " << ReadFileOrEmpty(out);
  }

  // Over a plain-HTTP client URL: etcd serves the maintenance API on client URLs only, so a
  // TLS cluster has no leader lookup (LeaderIndex is -1).
  std::optional<MemberStatus> StatusOf(int i) const {
    const HttpResponse r = HttpRequest(port(i), "POST", "/v3/maintenance/status", "", "{}");
    if (r.status != 200) return std::nullopt;
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("header")) return std::nullopt;
    // uint64 IDs come as strings.
    return MemberStatus{j["header"].value("member_id", std::string()),
                        j.value("leader", std::string())};
  }

  EtcdServerOptions options_;
  TempDir dir_;
  EtcdCerts certs_;
  std::vector<Member> members_;
};

}  // namespace pgrt::testing
