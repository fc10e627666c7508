// TcpRelay: a TCP relay on 127.0.0.1 for tests that need a slow or a silent server between a
// node and its primary. Each accepted connection is either forwarded to 127.0.0.1:target at
// most `bytes_per_second` in each direction (so a clone of a small cluster lasts seconds),
// or held silent: accepted, never forwarded, never answered (a server that took the
// connection and does not speak, which no client can tell from a wedged one). Every socket
// and thread it makes ends with it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace pgrt::testing {

class TcpRelay {
 public:
  enum class Mode { kForward, kSilent };

  TcpRelay(int target_port, int64_t bytes_per_second, Mode mode)
      : target_port_(target_port), rate_(bytes_per_second), mode_(mode) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("relay: cannot listen on 127.0.0.1");
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }

  ~TcpRelay() {
    stop_ = true;
    {
      // Wakes every thread blocked on one of these sockets; each closes its own.
      std::lock_guard<std::mutex> lock(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    for (std::thread& t : pumps_) t.join();
    ::close(listen_fd_);
  }

  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  int port() const { return port_; }
  // For connections accepted from now on.
  void SetMode(Mode mode) { mode_ = mode; }
  // Connections accepted so far, and bytes carried from the target to the clients.
  int accepted() const { return accepted_; }
  int64_t bytes_to_clients() const { return bytes_to_clients_; }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    return addr;
  }

  void Track(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.push_back(fd);
    if (stop_) ::shutdown(fd, SHUT_RDWR);  // the destructor already went through the list
  }

  void CloseTracked(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    ::close(fd);
  }

  void Accept() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;  // 100 ms bounds noticing `stop_`
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      ++accepted_;
      Track(client);
      std::lock_guard<std::mutex> lock(mu_);
      pumps_.emplace_back([this, client, mode = mode_.load()] {
        if (mode == Mode::kSilent) {
          Hold(client);
        } else {
          Forward(client);
        }
        CloseTracked(client);
      });
    }
  }

  // Reads and drops what the client sends, answers nothing, until either side ends.
  void Hold(int client) {
    char buf[4096];
    while (!stop_) {
      pollfd p{client, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (::recv(client, buf, sizeof buf, 0) <= 0) return;
    }
  }

  void Forward(int client) {
    int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (server < 0) return;
    Track(server);
    sockaddr_in addr = Loopback(target_port_);
    if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
      Pump(client, server);
    CloseTracked(server);
  }

  // Both directions on one thread. A direction that carried more than the rate allows for
  // the time since the connection began waits (its fd leaves the poll set) until it may go.
  void Pump(int client, int server) {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point start = Clock::now();
    int64_t carried[2] = {0, 0};  // [0]: client → server, [1]: server → client
    const int from[2] = {client, server};
    const int to[2] = {server, client};
    char buf[16384];
    while (!stop_) {
      pollfd p[2];
      int n = 0;
      int which[2];
      int wait_ms = 100;  // bounds noticing `stop_`
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      for (int d = 0; d < 2; ++d) {
        double due = rate_ > 0 ? static_cast<double>(carried[d]) / static_cast<double>(rate_) : 0;
        if (due > elapsed) {
          wait_ms = std::min(wait_ms, static_cast<int>((due - elapsed) * 1000) + 1);
          continue;
        }
        p[n] = {from[d], POLLIN, 0};
        which[n++] = d;
      }
      if (n == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
        continue;
      }
      if (::poll(p, static_cast<nfds_t>(n), wait_ms) <= 0) continue;
      for (int i = 0; i < n; ++i) {
        if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const int d = which[i];
        // Small reads when throttled keep the pace even.
        size_t chunk = rate_ > 0 ? std::min<size_t>(sizeof buf, static_cast<size_t>(rate_ / 20) + 1)
                                 : sizeof buf;
        ssize_t got = ::recv(from[d], buf, chunk, 0);
        if (got <= 0) return;  // either side closed: close both
        if (!SendAll(to[d], buf, static_cast<size_t>(got))) return;
        carried[d] += got;
        if (d == 1) bytes_to_clients_ += got;
      }
    }
  }

  static bool SendAll(int fd, const char* data, size_t size) {
    while (size > 0) {
      ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }

  const int target_port_;
  const int64_t rate_;  // bytes per second and direction; 0: as fast as it goes
  std::atomic<Mode> mode_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int64_t> bytes_to_clients_{0};
  std::mutex mu_;  // open_fds_, pumps_
  std::vector<int> open_fds_;
  std::vector<std::thread> pumps_;
  std::thread acceptor_;
};

}  // namespace pgrt::testing
