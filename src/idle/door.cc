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

#include "idle/wire.h"

namespace pgrt {
namespace {

constexpr size_t kReadBuffer = 65536;
// A held client's first bytes (SSLRequest or startup packet: a few hundred bytes); beyond
// this the door stops reading and the kernel holds the rest.
constexpr size_t kMaxPending = 16384;
constexpr int kAcceptBatch = 64;
constexpr int kBacklog = 4096;
// A refused client that asked for encryption has this long to send its startup packet.
constexpr Millis kRejectGrace{2000};

// SSLRequest or GSSENCRequest: length 8, then 1234/5679 or 1234/5680.
bool IsEncryptionRequest(const std::string& b) {
  static const char kSsl[] = {0, 0, 0, 8, 0x04, static_cast<char>(0xd2), 0x16, 0x2f};
  static const char kGss[] = {0, 0, 0, 8, 0x04, static_cast<char>(0xd2), 0x16, 0x30};
  return b.size() == 8 && (b.compare(0, 8, kSsl, 8) == 0 || b.compare(0, 8, kGss, 8) == 0);
}

std::vector<std::string> SplitAddresses(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const std::string& item : in) {
    size_t start = 0;
    while (start <= item.size()) {
      size_t comma = item.find(',', start);
      std::string a = item.substr(start, comma == std::string::npos ? comma : comma - start);
      a.erase(0, a.find_first_not_of(" \t"));
      a.erase(a.find_last_not_of(" \t") + 1);
      if (!a.empty()) out.push_back(a);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
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
  if (::listen(fd.get(), kBacklog) != 0) return ErrnoStatus("listen on " + where);
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
};

// Waiting for postgres: neither connected nor being refused.
bool ClientDoor::Held(const Session& s) { return !s.relay && !s.server && s.rejecting.empty(); }

ClientDoor::ClientDoor(EventLoop& loop, DoorOptions options, Hooks hooks)
    : loop_(loop), options_(std::move(options)), hooks_(std::move(hooks)), buffer_(kReadBuffer) {}

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
  const std::string port = std::to_string(options_.port);
  auto add = [this](UniqueFd fd, bool unix_socket) -> Status {
    const int raw = fd.get();
    listeners_.push_back(std::move(fd));
    return loop_.Watch(raw, [this, raw, unix_socket] { OnAcceptable(raw, unix_socket); });
  };
  for (const std::string& a : SplitAddresses(options_.listen_addresses)) {
    // "*" as postgres reads it: every IPv4 and IPv6 address (IPv6 only where the host has it).
    std::vector<std::pair<std::string, bool>> hosts;
    if (a == "*")
      hosts = {{"0.0.0.0", true}, {"::", false}};
    else
      hosts = {{a, true}};
    for (const auto& [host, required] : hosts) {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_STREAM;
      hints.ai_flags = AI_PASSIVE;
      addrinfo* found = nullptr;
      if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        if (!required) continue;
        return Status::InvalidArgument("client door: " + host + ": " + ::gai_strerror(rc));
      }
      std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);
      for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        auto fd = ListenOn(ai->ai_addr, ai->ai_addrlen, host + ":" + port);
        if (!fd.ok()) {
          if (!required && errno == EADDRNOTAVAIL) continue;  // no IPv6 on this host
          return fd.status().Wrap("client door");
        }
        PGRT_RETURN_IF_ERROR(add(std::move(*fd), false), "client door");
      }
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

void ClientDoor::Admit(UniqueFd fd, const sockaddr* addr, bool unix_socket) {
  ++stats_.accepted;
  if (!unix_socket) {
    int yes = 1;  // a query's answer must not wait for the delayed ACK of the last one
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  }
  auto s = std::make_unique<Session>();
  s->id = next_id_++;
  s->client = std::move(fd);
  s->unix_client = unix_socket;
  s->cls = unix_socket ? ClientClass::kLocal : Classify(addr, options_.replication_networks);
  Session& ref = *s;
  sessions_.emplace(s->id, std::move(s));
  Changed();
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

void ClientDoor::Hold() { open_ = false; }

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
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::connect(s.server.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst);
  }
  if (rc == 0) return StartRelay(s);
  if (errno != EINPROGRESS && errno != EAGAIN)
    return Reject(id, std::string("cannot reach postgres: ") + std::strerror(errno));
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
  if (err != 0) return Reject(id, std::string("cannot reach postgres: ") + std::strerror(err));
  StartRelay(s);
}

void ClientDoor::StartRelay(Session& s) {
  const uint64_t id = s.id;
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
