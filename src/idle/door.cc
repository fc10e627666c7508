#include "idle/door.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "idle/listen_address.h"
#include "idle/reuseport.h"
#include "idle/wire.h"

namespace pgrt {
namespace {

constexpr size_t kReadBuffer = 65536;
// A held client's first bytes (SSLRequest or startup packet: a few hundred bytes); beyond
// this the door stops reading and the kernel holds the rest.
constexpr size_t kMaxPending = 16384;
constexpr int kAcceptBatch = 64;
// A refused client that asked for encryption has this long to send its startup packet.
constexpr Millis kRejectGrace{2000};

// SSLRequest or GSSENCRequest: length 8, then 1234/5679 or 1234/5680.
bool IsEncryptionRequest(const std::string& b) {
  static const char kSsl[] = {0, 0, 0, 8, 0x04, static_cast<char>(0xd2), 0x16, 0x2f};
  static const char kGss[] = {0, 0, 0, 8, 0x04, static_cast<char>(0xd2), 0x16, 0x30};
  return b.size() == 8 && (b.compare(0, 8, kSsl, 8) == 0 || b.compare(0, 8, kGss, 8) == 0);
}

Result<UniqueFd> ListenOn(const sockaddr* addr, socklen_t len, const std::string& where) {
  UniqueFd fd(::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus("listen on " + where + ": socket");
  int yes = 1;
  // Like postgres: SO_REUSEADDR (restart over TIME_WAIT), never SO_REUSEPORT.
  if (addr->sa_family != AF_UNIX)
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (addr->sa_family == AF_INET6)
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof yes);
  if (::bind(fd.get(), addr, len) != 0) return ErrnoStatus("bind " + where);
  if (::listen(fd.get(), kDoorBacklog) != 0) return ErrnoStatus("listen on " + where);
  return fd;
}

}  // namespace

struct ClientDoor::Session {
  uint64_t id = 0;
  UniqueFd client;
  UniqueFd server;
  ClientClass cls = ClientClass::kLocal;
  bool unix_client = false;
  std::string pending;    // bytes read while held
  bool reading = false;   // the held client is watched
  std::string rejecting;  // refused after answering "N" to its encryption request
  EventLoop::TimerId deadline = 0;
  std::unique_ptr<Relay> relay;
  int relay_port = 0;  // the local port of the TCP connection to postgres
};

// Waiting for postgres: neither connected nor being refused.
bool ClientDoor::Held(const Session& s) { return !s.relay && !s.server && s.rejecting.empty(); }

ClientDoor::ClientDoor(EventLoop& loop, DoorOptions options, Hooks hooks,
                       std::vector<UniqueFd> group_listeners)
    : loop_(loop),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      group_listeners_(std::move(group_listeners)),
      handoff_(!group_listeners_.empty()),
      buffer_(kReadBuffer) {}

ClientDoor::~ClientDoor() {
  for (auto& [id, s] : sessions_) {
    if (s->deadline) loop_.CancelTimer(s->deadline);
    if (s->reading) loop_.Unwatch(s->client.get());
    if (!s->relay && s->server) loop_.Unwatch(s->server.get());
  }
  sessions_.clear();
  for (UniqueFd& fd : listeners_) loop_.Unwatch(fd.get());
  if (unix_bound_) ::unlink(options_.unix_path.c_str());
}

Status ClientDoor::Listen() {
  auto add = [this](UniqueFd fd, bool unix_socket) -> Status {
    const int raw = fd.get();
    listeners_.push_back(std::move(fd));
    return loop_.Watch(raw, [this, raw, unix_socket] { OnAcceptable(raw, unix_socket); });
  };
  if (handoff_) {
    for (UniqueFd& fd : group_listeners_) {
      tcp_listeners_.push_back(fd.get());
      PGRT_RETURN_IF_ERROR(add(std::move(fd), false), "client door");
    }
    group_listeners_.clear();
  } else {
    auto addresses = ResolveListenAddresses(options_.listen_addresses, options_.port);
    if (!addresses.ok()) return addresses.status().Wrap("client door");
    for (const ListenAddress& a : *addresses) {
      auto fd = ListenOn(reinterpret_cast<const sockaddr*>(&a.addr), a.len, a.where);
      if (!fd.ok()) {
        if (a.optional && errno == EADDRNOTAVAIL) continue;  // no IPv6 on this host
        return fd.status().Wrap("client door");
      }
      PGRT_RETURN_IF_ERROR(add(std::move(*fd), false), "client door");
    }
  }
  if (!options_.unix_path.empty()) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (options_.unix_path.size() >= sizeof sun.sun_path)
      return Status::InvalidArgument("client door: socket path too long: " + options_.unix_path);
    std::memcpy(sun.sun_path, options_.unix_path.data(), options_.unix_path.size());
    // A socket file left by an earlier life: nobody answers on it, so it goes.
    struct stat st {};
    if (::lstat(options_.unix_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (probe && ::connect(probe.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0)
        return Status::Error("client door: " + options_.unix_path + " is in use");
      ::unlink(options_.unix_path.c_str());
    }
    auto fd = ListenOn(reinterpret_cast<sockaddr*>(&sun), sizeof sun, options_.unix_path);
    if (!fd.ok()) return fd.status().Wrap("client door");
    unix_bound_ = true;
    ::chmod(options_.unix_path.c_str(), 0777);  // as postgres's unix_socket_permissions
    PGRT_RETURN_IF_ERROR(add(std::move(*fd), true), "client door");
  }
  return Status::Ok();
}

void ClientDoor::OnAcceptable(int listen_fd, bool unix_socket) {
  for (int i = 0; i < kAcceptBatch; ++i) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
        return;
      // Out of descriptors: the backlog keeps the clients; the next readiness tries again.
      spdlog::warn("client door: accept: {}", std::strerror(errno));
      return;
    }
    Admit(UniqueFd(fd), reinterpret_cast<sockaddr*>(&addr), unix_socket);
  }
}

// Whether `fd` was accepted on postgres's private address: a relay of this door that found
// pgrt's own wildcard listener there because postgres is gone.
bool ClientDoor::ReachedItself(int fd) const {
  if (!handoff_) return false;
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 ||
      local.ss_family != AF_INET)
    return false;
  const auto& in = reinterpret_cast<const sockaddr_in&>(local);
  in_addr target{};
  ::inet_pton(AF_INET, options_.backend_host.c_str(), &target);
  return in.sin_addr.s_addr == target.s_addr &&
         ntohs(in.sin_port) == static_cast<uint16_t>(options_.backend_port);
}

void ClientDoor::Admit(UniqueFd fd, const sockaddr* addr, bool unix_socket) {
  ++stats_.accepted;
  if (!unix_socket) {
    int yes = 1;  // a query's answer must not wait for the delayed ACK of the last one
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  }
  const bool itself = !unix_socket && ReachedItself(fd.get());
  auto s = std::make_unique<Session>();
  s->id = next_id_++;
  s->client = std::move(fd);
  s->unix_client = unix_socket;
  // A relay that came back keeps the class of the client it carries (its source address).
  s->cls = unix_socket ? ClientClass::kLocal
           : itself    ? ClassOfRelaySource(addr)
                       : Classify(addr, options_.replication_networks);
  Session& ref = *s;
  sessions_.emplace(s->id, std::move(s));
  Changed();
  if (itself) {
    // Held like any client, so the relay in front of it waits too; never relayed again now
    // (it would only come back).
    spdlog::info("client door: postgres does not answer on its private address; holding");
    GoneAway();
    return Park(ref);
  }
  if (open_) return Connect(ref);
  Park(ref);
}

void ClientDoor::Park(Session& s) {
  if (!held_since_) held_since_ = loop_.clock().Now();
  const uint64_t id = s.id;
  // Watched while held: a client that gives up is noticed, and its first bytes are kept.
  if (loop_.Watch(s.client.get(), [this, id] { OnHeldReadable(id); }).ok()) s.reading = true;
  s.deadline = loop_.AddTimer(options_.wake_timeout, [this, id] {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    it->second->deadline = 0;
    std::string why = problem_ ? problem_() : "";
    Reject(id, "postgres did not wake within " +
                   std::to_string(options_.wake_timeout.count() / 1000) + " s" +
                   (why.empty() ? "" : ": " + why));
  });
  if (hooks_.wake) hooks_.wake();
}

void ClientDoor::OnHeldReadable(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  char buf[4096];
  ssize_t n = ::recv(s.client.get(), buf, sizeof buf, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
    return Drop(id);  // the client gave up waiting
  if (n > 0) s.pending.append(buf, static_cast<size_t>(n));
  // Refused after "N" to an encryption request: the startup packet came, the error follows.
  if (!s.rejecting.empty()) return Reject(id, s.rejecting);
  if (s.pending.size() >= kMaxPending) {
    loop_.Unwatch(s.client.get());
    s.reading = false;
  }
}

std::optional<Millis> ClientDoor::Open() {
  // New clients go straight to postgres from now on; those held here are relayed below.
  if (handoff_ && !open_) Steer(kSteerToPostgres);
  open_ = true;
  std::optional<Millis> waited;
  if (held_since_) waited = std::chrono::duration_cast<Millis>(loop_.clock().Now() - *held_since_);
  held_since_.reset();
  std::vector<uint64_t> held;
  for (auto& [id, s] : sessions_)
    if (Held(*s)) held.push_back(id);
  for (uint64_t id : held) {
    auto it = sessions_.find(id);
    if (it != sessions_.end()) Connect(*it->second);
  }
  return waited;
}

void ClientDoor::Hold() {
  if (handoff_ && open_) Steer(kSteerToPgrt);
  open_ = false;
}

void ClientDoor::Steer(uint32_t index) {
  for (int fd : tcp_listeners_)
    if (Status st = SteerReuseportGroup(fd, index); !st.ok())
      spdlog::error("client door: steering new connections to {}: {}",
                    index == kSteerToPostgres ? "postgres" : "pgrt", st.message());
}

void ClientDoor::GoneAway() {
  const bool was_open = open_;
  Hold();
  if (was_open && hooks_.gone) hooks_.gone();
}

void ClientDoor::Unreachable(Session& s, const std::string& why) {
  spdlog::info("client door: postgres cannot be reached ({}); the client waits", why);
  if (!s.relay && s.server) loop_.Unwatch(s.server.get());
  s.server.reset();
  GoneAway();
  Park(s);
}

void ClientDoor::Refuse(const std::string& message) {
  std::vector<uint64_t> held;
  for (auto& [id, s] : sessions_)
    if (Held(*s)) held.push_back(id);
  for (uint64_t id : held) Reject(id, message);
  held_since_.reset();
}

void ClientDoor::Connect(Session& s) {
  if (s.reading) loop_.Unwatch(s.client.get());
  s.reading = false;
  if (s.deadline) loop_.CancelTimer(s.deadline);
  s.deadline = 0;
  const uint64_t id = s.id;
  int rc = 0;
  if (s.unix_client) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, options_.backend_unix_path.data(),
                std::min(options_.backend_unix_path.size(), sizeof sun.sun_path - 1));
    s.server.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!s.server) return Reject(id, std::string("cannot reach postgres: ") + std::strerror(errno));
    rc = ::connect(s.server.get(), reinterpret_cast<sockaddr*>(&sun), sizeof sun);
  } else {
    s.server.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!s.server) return Reject(id, std::string("cannot reach postgres: ") + std::strerror(errno));
    int yes = 1;
    ::setsockopt(s.server.get(), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    // The port is picked at connect: thousands of sessions do not exhaust ports at bind.
    ::setsockopt(s.server.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &yes, sizeof yes);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, SourceAddress(s.cls), &src.sin_addr);
    if (::bind(s.server.get(), reinterpret_cast<sockaddr*>(&src), sizeof src) != 0)
      return Reject(id, std::string("cannot reach postgres: bind: ") + std::strerror(errno));
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<uint16_t>(options_.backend_port));
    ::inet_pton(AF_INET, options_.backend_host.c_str(), &dst.sin_addr);
    rc = ::connect(s.server.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst);
  }
  if (rc == 0) return StartRelay(s);
  if (errno != EINPROGRESS && errno != EAGAIN) return Unreachable(s, std::strerror(errno));
  Status st =
      loop_.WatchIo(s.server.get(), EventLoop::kWritable, [this, id](int) { OnConnected(id); });
  if (!st.ok()) Reject(id, st.message());
}

void ClientDoor::OnConnected(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  loop_.Unwatch(s.server.get());
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(s.server.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return Unreachable(s, std::strerror(err));
  StartRelay(s);
}

void ClientDoor::StartRelay(Session& s) {
  const uint64_t id = s.id;
  if (!s.unix_client) {
    sockaddr_in local{};
    socklen_t len = sizeof local;
    if (::getsockname(s.server.get(), reinterpret_cast<sockaddr*>(&local), &len) == 0)
      s.relay_port = ntohs(local.sin_port);
  }
  s.relay = std::make_unique<Relay>(loop_, buffer_, std::move(s.client), std::move(s.server),
                                    std::move(s.pending), [this, id] { Drop(id); });
  if (Status st = s.relay->Start(); !st.ok()) {
    spdlog::warn("client door: {}", st.message());
    loop_.Post([this, id] { Drop(id); });
  }
}

void ClientDoor::Reject(uint64_t id, const std::string& message) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  if (s.rejecting.empty()) {
    ++stats_.refused;
    spdlog::warn("client door: a client was refused: {}", message);
  }
  // A client that asked for TLS or GSS encryption first reads one byte: "N" (not here)
  // lets it send its startup packet in the clear, and then it reads the error. An error in
  // place of that byte would reach the user as "error during SSL exchange" without the
  // reason. A client that insists on encryption gives up at "N" on its own.
  if (s.client && s.rejecting.empty() && IsEncryptionRequest(s.pending)) {
    s.rejecting = message;
    s.pending.clear();
    if (::send(s.client.get(), "N", 1, MSG_NOSIGNAL) == 1) {
      if (!s.reading && loop_.Watch(s.client.get(), [this, id] { OnHeldReadable(id); }).ok())
        s.reading = true;
      if (s.deadline) loop_.CancelTimer(s.deadline);
      s.deadline = loop_.AddTimer(kRejectGrace, [this, id] {
        auto r = sessions_.find(id);
        if (r != sessions_.end()) r->second->deadline = 0;
        Drop(id);
      });
      return;
    }
  }
  if (s.client) {
    // The socket's buffer is empty: the message fits, or the client is gone anyway.
    const std::string e =
        FatalError(kCannotConnectNow, s.rejecting.empty() ? message : s.rejecting);
    [[maybe_unused]] ssize_t n = ::send(s.client.get(), e.data(), e.size(), MSG_NOSIGNAL);
  }
  Drop(id);
}

void ClientDoor::Drop(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session& s = *it->second;
  if (s.deadline) loop_.CancelTimer(s.deadline);
  if (s.reading) loop_.Unwatch(s.client.get());
  if (!s.relay && s.server) loop_.Unwatch(s.server.get());
  sessions_.erase(it);  // a relay closing itself ends here: nothing of it runs afterwards
  bool any_held = false;
  for (auto& [sid, other] : sessions_)
    if (Held(*other)) any_held = true;
  if (!any_held) held_since_.reset();
  Changed();
}

void ClientDoor::Changed() {
  if (hooks_.sessions) hooks_.sessions(sessions_.size());
}

std::vector<int> ClientDoor::RelayPorts() const {
  std::vector<int> ports;
  for (const auto& [id, s] : sessions_)
    if (s->relay && s->relay_port != 0) ports.push_back(s->relay_port);
  return ports;
}

DoorStats ClientDoor::stats() const {
  DoorStats d = stats_;
  for (const auto& [id, s] : sessions_) {
    if (s->relay)
      ++d.relayed;
    else if (Held(*s))
      ++d.held;
  }
  return d;
}

}  // namespace pgrt
