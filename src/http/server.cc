// HttpServer itself: listening, accepting (with TLS when asked), the table of connections with
// the idle ones oldest first, and the counters. One connection's life is in connection.cc.
#include "http/server.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "http/connection.h"

namespace pgrt {
namespace {

using http_internal::ToTimeval;

constexpr Millis kAcceptRetry{100};  // after EMFILE and the like

std::string PeerName(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (sa->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return "?";
}

}  // namespace

HttpServer::HttpServer(EventLoop& loop, HttpLimits limits, HttpHandler& handler)
    : loop_(loop), limits_(limits), handler_(handler) {}

HttpServer::~HttpServer() { Close(); }

Status HttpServer::Listen(const std::string& address, int port) {
  const std::string host = address == "*" ? "0.0.0.0" : address;
  const std::string where = host + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    return Status::InvalidArgument("listen on " + where + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus("listen on " + where + ": socket");
  // SO_REUSEADDR lets a restarted node bind while old connections sit in TIME_WAIT.
  // Never SO_REUSEPORT: a second node must not share the port and answer for this one.
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0) {
    Status st = ErrnoStatus("bind " + where);
    ::close(fd);
    return st;
  }
  listener_ =
      evconnlistener_new(loop_.base(), &OnAccept, this,
                         LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, limits_.backlog, fd);
  if (listener_ == nullptr) {
    Status st = ErrnoStatus("listen on " + where);
    ::close(fd);
    return st;
  }
  evconnlistener_set_error_cb(listener_, &OnAcceptError);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) == 0)
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return Status::Ok();
}

void HttpServer::Close() {
  if (listener_ != nullptr) evconnlistener_free(listener_);
  listener_ = nullptr;
  if (accept_retry_ != nullptr) event_free(accept_retry_);
  accept_retry_ = nullptr;
  for (Connection* c : idle_) c->idle = false;
  idle_.clear();
  auto connections = std::move(connections_);
  connections_.clear();
  for (auto& [id, c] : connections) c->Destroy();
}

HttpServer::Stats HttpServer::stats() const {
  Stats s = stats_;
  s.open = connections_.size();
  s.idle = idle_.size();
  return s;
}

void HttpServer::OnAccept(evconnlistener*, int fd, sockaddr* addr, int len, void* arg) {
  static_cast<HttpServer*>(arg)->Accept(fd, addr, len);
}

void HttpServer::OnAcceptError(evconnlistener* listener, void* arg) {
  auto* self = static_cast<HttpServer*>(arg);
  const int err = errno;
  // Out of descriptors or memory: accepting again at once would spin. Pause briefly; the
  // kernel keeps the waiting connections in the backlog meanwhile.
  spdlog::warn("API: accept: {}", std::strerror(err));
  evconnlistener_disable(listener);
  if (self->accept_retry_ == nullptr)
    self->accept_retry_ = evtimer_new(
        self->loop_.base(),
        [](int, short, void* a) {
          auto* s = static_cast<HttpServer*>(a);
          if (s->listener_ != nullptr) evconnlistener_enable(s->listener_);
        },
        self);
  timeval tv = ToTimeval(kAcceptRetry);
  evtimer_add(self->accept_retry_, &tv);
}

void HttpServer::Accept(int fd, const sockaddr* addr, int) {
  if (connections_.size() >= limits_.max_connections) {
    if (idle_.empty()) {
      ++stats_.refused;
      ::close(fd);
      return;
    }
    ++stats_.evicted;
    // The oldest idle connection makes room; it holds no request, so nothing is lost.
    auto oldest = connections_.at(idle_.front()->id);
    oldest->Destroy();
  }
  // Headers and body leave in one buffer, but without TCP_NODELAY a kept-alive answer
  // still waits ~40 ms for the delayed ACK of the previous one (Nagle).
  int yes = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  bufferevent* bev = nullptr;
  if (new_ssl_) {
    SSL* ssl = new_ssl_();
    if (ssl == nullptr) {
      ::close(fd);
      return;
    }
    // The bufferevent owns the SSL (and frees it); the handshake runs on the loop.
    bev = bufferevent_openssl_socket_new(loop_.base(), fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev == nullptr) SSL_free(ssl);
    // A client that closes without close_notify (most do after an answer) is not an error.
    if (bev != nullptr) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
  } else {
    bev = bufferevent_socket_new(loop_.base(), fd, BEV_OPT_CLOSE_ON_FREE);
  }
  if (bev == nullptr) {
    ::close(fd);
    return;
  }
  ++stats_.accepted;
  const uint64_t id = next_id_++;
  http_internal::ConnectionOwner& owner = *this;
  auto c = std::make_shared<Connection>(owner, limits_, handler_, id, bev, PeerName(addr));
  connections_.emplace(id, c);
  c->Begin();
}

void HttpServer::Forget(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  MarkBusy(*it->second);
  connections_.erase(it);
}

void HttpServer::MarkIdle(Connection& c) {
  if (c.idle) return;
  c.idle = true;
  c.idle_pos = idle_.insert(idle_.end(), &c);
}

void HttpServer::MarkBusy(Connection& c) {
  if (!c.idle) return;
  c.idle = false;
  idle_.erase(c.idle_pos);
}

}  // namespace pgrt
