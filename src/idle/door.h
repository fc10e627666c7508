// ClientDoor: holds the client port (POSTGRES_PORT and its Unix socket) for a node that may
// sleep (PGRT_IDLE_TIMEOUT). postgres listens on a private loopback port behind it. While
// postgres runs, each client is relayed to it at once; while it sleeps, a client's
// connection is accepted and held, silent, its first bytes kept, until postgres is ready
// (the door asks for a wake), then relayed as if nothing happened. Nothing is parsed: TLS
// and SCRAM stay between the client and postgres. A client held longer than the wake
// timeout, or when the wake fails, gets a PostgreSQL FATAL error, never a reset.
//
// The door counts client sessions: held and relayed connections are the node's activity;
// pgrt's own connections go to the private socket and are not counted.
//
// With the handoff (idle/reuseport.h) the door's TCP listeners share the client port with
// postgres: Open steers new connections to postgres itself, Hold steers them back to the
// door. Only the clients held during a wake (and Unix socket clients) are relayed, to
// postgres's private loopback address on the same port. A relay that finds no postgres
// there (it stopped or crashed) is no error: the door holds its client again, and the
// owner hears that postgres is gone.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "idle/client_class.h"
#include "idle/relay.h"
#include "process/event_loop.h"
#include "util/clock.h"
#include "util/status.h"
#include "util/unique_fd.h"

namespace pgrt {

// The listen backlog of the door's sockets.
inline constexpr int kDoorBacklog = 4096;

struct DoorOptions {
  std::vector<std::string> listen_addresses;  // "*", "0.0.0.0", "::", host names...
  int port = 5432;
  std::string unix_path;  // the public socket file; "" for none
  std::string backend_host = "127.0.0.1";
  int backend_port = 0;  // postgres's private port (its public one with the handoff)
  std::string backend_unix_path;
  std::vector<std::string> replication_networks;  // CIDRs allowed to replicate
  Millis wake_timeout{30000};
};

struct DoorStats {
  uint64_t accepted = 0;  // connections since start
  uint64_t refused = 0;   // sent a FATAL error (wake timeout or failure, postgres gone)
  size_t held = 0;        // now: waiting for postgres
  size_t relayed = 0;     // now: connected to postgres
};

class ClientDoor {
 public:
  struct Hooks {
    std::function<void()> wake;  // a client is held: postgres is wanted
    // The number of client sessions (held or relayed) changed.
    std::function<void(size_t sessions)> sessions;
    // A client could not be relayed: postgres does not take connections now (it stopped or
    // crashed). The door holds from now on; Open lets the clients through again.
    std::function<void()> gone;
  };

  // `group_listeners`: with the handoff, pgrt's TCP listeners, already in their reuseport
  // groups. Empty: the door binds its own listeners, alone on the port.
  ClientDoor(EventLoop& loop, DoorOptions options, Hooks hooks,
             std::vector<UniqueFd> group_listeners = {});
  ~ClientDoor();
  ClientDoor(const ClientDoor&) = delete;
  ClientDoor& operator=(const ClientDoor&) = delete;

  // Binds every address and the Unix socket now: the port is held before postgres starts.
  Status Listen();
  // postgres is ready: held clients go through, new ones straight away. Returns how long
  // the oldest held client waited (a wake's latency as a client saw it), if one did.
  std::optional<Millis> Open();
  // postgres is about to stop: new clients are held (sessions already relayed end with it).
  void Hold();
  // The wake failed: every held client gets `message` as a FATAL error.
  void Refuse(const std::string& message);
  bool open() const { return open_; }
  bool handoff() const { return handoff_; }
  size_t sessions() const { return sessions_.size(); }
  DoorStats stats() const;
  // The local ports of the door's TCP relays to postgres (postgres sees them as client_port).
  std::vector<int> RelayPorts() const;
  // The reason held clients are given when their wake times out.
  void SetWakeProblem(std::function<std::string()> problem) { problem_ = std::move(problem); }

 private:
  struct Session;
  static bool Held(const Session& s);
  void OnAcceptable(int listen_fd, bool unix_socket);
  void Admit(UniqueFd fd, const sockaddr* addr, bool unix_socket);
  void Park(Session& s);
  void OnHeldReadable(uint64_t id);
  void Connect(Session& s);
  void OnConnected(uint64_t id);
  void StartRelay(Session& s);
  // The relay of `s` found no postgres: `s` waits again, and so does every new client.
  void Unreachable(Session& s, const std::string& why);
  // Held from now on; tells the owner when the door was open.
  void GoneAway();
  bool ReachedItself(int fd) const;
  void Steer(uint32_t index);
  void Reject(uint64_t id, const std::string& message);
  void Drop(uint64_t id);
  void Changed();

  EventLoop& loop_;
  DoorOptions options_;
  Hooks hooks_;
  std::function<std::string()> problem_;
  std::vector<UniqueFd> listeners_;
  std::vector<UniqueFd> group_listeners_;  // until Listen() adopts them
  std::vector<int> tcp_listeners_;         // of listeners_: the ones in reuseport groups
  bool handoff_ = false;
  bool unix_bound_ = false;
  std::map<uint64_t, std::unique_ptr<Session>> sessions_;
  uint64_t next_id_ = 1;
  bool open_ = false;
  std::optional<SteadyTime> held_since_;  // the oldest client waiting for a wake
  std::vector<char> buffer_;              // one read at a time, shared by every relay
  DoorStats stats_;
};

}  // namespace pgrt
