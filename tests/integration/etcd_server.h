// EtcdServer: one etcd member (Debian's etcd-server) for tests, on free loopback ports in a
// temporary directory; Child stops (SIGKILL) and reaps it when the server goes out of scope.
// Optionally over TLS (throwaway certificates, etcd_certs.h), requiring client certificates,
// and with authentication enabled (a root user made with etcdctl).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
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

class EtcdServer {
 public:
  explicit EtcdServer(EtcdServerOptions options = {})
      : options_(std::move(options)),
        client_port_(FreePort()),
        peer_port_(OtherFreePort({client_port_})),
        health_port_(OtherFreePort({client_port_, peer_port_})) {}
  void Start() {
    if (options_.tls && certs_.ca.empty())
      certs_ = MakeEtcdCerts(dir_.path(), options_.server_names);
    const std::string client = url();
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
    SpawnSpec spec;
    spec.name = "etcd";
    spec.argv = {"/usr/bin/etcd", "--name=t1", "--data-dir=" + dir_.path() + "/etcd",
                 "--listen-client-urls=" + client, "--advertise-client-urls=" + client,
                 "--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
                 "--initial-cluster=t1=" + peer,
                 // /health over plain HTTP whatever the client URLs ask for.
                 "--listen-metrics-urls=http://127.0.0.1:" + std::to_string(health_port_),
                 "--log-level=error"};
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
    log_ = UniqueFdOrDie(dir_.path() + "/etcd.log");
    spec.stdout_fd = log_.get();
    spec.stderr_fd = log_.get();
    auto child = Child::Spawn(spec);
    ASSERT_TRUE(child.ok()) << child.status().message();
    child_.emplace(std::move(*child));
    ASSERT_TRUE(WaitUntil([&] { return HttpGet(health_port_, "/health").status == 200; },
                          milliseconds(20000), milliseconds(50)))
        << ReadFileOrEmpty(dir_.path() + "/etcd.log");
  }
  void Stop() { child_.reset(); }
  int port() const { return client_port_; }
  std::string url() const {
    return (options_.tls ? "https://" : "http://") + std::string("127.0.0.1:") +
           std::to_string(client_port_);
  }
  const EtcdCerts& certs() const { return certs_; }  // made by Start() when TLS

  // A user root with `password` (given to etcdctl on its stdin), then authentication on.
  void EnableAuth(const std::string& password) {
    ASSERT_NO_FATAL_FAILURE(Etcdctl({"user", "add", "root", "--interactive=false"}, password));
    ASSERT_NO_FATAL_FAILURE(Etcdctl({"auth", "enable"}, ""));
  }

 private:
  // A free port that is none of `taken` (a port just closed may be handed out again).
  static int OtherFreePort(const std::vector<int>& taken) {
    int port = FreePort();
    for (int i = 0; i < 20 && std::find(taken.begin(), taken.end(), port) != taken.end(); ++i)
      port = FreePort();
    return port;
  }
  static UniqueFd UniqueFdOrDie(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    EXPECT_TRUE(fd) << path;
    return fd;
  }
  void Etcdctl(const std::vector<std::string>& args, const std::string& input) {
    SpawnSpec spec;
    spec.name = "etcdctl";
    spec.argv = {"/usr/bin/etcdctl", "--endpoints=" + url()};
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
    const std::string out = dir_.path() + "/etcdctl.log";
    UniqueFd log = UniqueFdOrDie(out);
    spec.stdin_fd = read_end.get();
    spec.stdout_fd = log.get();
    spec.stderr_fd = log.get();
    auto child = Child::Spawn(spec);
    ASSERT_TRUE(child.ok()) << child.status().message();
    auto status = child->Wait();
    ASSERT_TRUE(status.ok());
    ASSERT_EQ(ExitCode(*status), 0) << "etcdctl " << args[0] << ": " << ReadFileOrEmpty(out);
  }

  EtcdServerOptions options_;
  TempDir dir_;
  int client_port_;
  int peer_port_;
  int health_port_;
  EtcdCerts certs_;
  UniqueFd log_;
  std::optional<Child> child_;
};

}  // namespace pgrt::testing
