// EtcdServer: one etcd member (Debian's etcd-server) for tests, on free loopback ports in a
// temporary directory; Child stops (SIGKILL) and reaps it when the server goes out of scope.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "harness/harness.h"
#include "process/child.h"
#include "util/unique_fd.h"

namespace pgrt::testing {

class EtcdServer {
 public:
  EtcdServer() : client_port_(FreePort()), peer_port_(FreePort()) {}
  void Start() {
    const std::string client = "http://127.0.0.1:" + std::to_string(client_port_);
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
    SpawnSpec spec;
    spec.name = "etcd";
    spec.argv = {"/usr/bin/etcd",
                 "--name=t1",
                 "--data-dir=" + dir_.path() + "/etcd",
                 "--listen-client-urls=" + client,
                 "--advertise-client-urls=" + client,
                 "--listen-peer-urls=" + peer,
                 "--initial-advertise-peer-urls=" + peer,
                 "--initial-cluster=t1=" + peer,
                 "--log-level=error"};
    spec.env = {{"PATH", "/usr/bin:/bin"}};
    log_ = UniqueFdOrDie(dir_.path() + "/etcd.log");
    spec.stdout_fd = log_.get();
    spec.stderr_fd = log_.get();
    auto child = Child::Spawn(spec);
    ASSERT_TRUE(child.ok()) << child.status().message();
    child_.emplace(std::move(*child));
    ASSERT_TRUE(WaitUntil([&] { return HttpGet(client_port_, "/health").status == 200; },
                          milliseconds(20000), milliseconds(50)))
        << ReadFileOrEmpty(dir_.path() + "/etcd.log");
  }
  void Stop() { child_.reset(); }
  int port() const { return client_port_; }

 private:
  static UniqueFd UniqueFdOrDie(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    EXPECT_TRUE(fd) << path;
    return fd;
  }
  TempDir dir_;
  int client_port_;
  int peer_port_;
  UniqueFd log_;
  std::optional<Child> child_;
};

}  // namespace pgrt::testing
