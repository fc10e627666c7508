// Sleeper: scale to zero (PGRT_IDLE_TIMEOUT). It owns the client door (idle/door.h) and
// decides when postgres sleeps and wakes: after the idle timeout with no client session it
// holds new clients at the door and hibernates the node; the first client to arrive wakes
// it, and the door lets every held client through once postgres is ready. Activity is the
// door's sessions alone: pgrt's own connections (health checks, metrics, backups) use
// postgres's private socket and never keep it awake. A node that must not sleep (a primary
// with standbys streaming, a replica, a backup or dump running) stays up and looks again
// after another idle period; a scheduled backup or dump wakes it shortly before it is due.
//
// With PgBouncer (PGBOUNCER_ENABLED) a second door holds PgBouncer's port, PgBouncer listens
// on a private loopback port behind it, and PgBouncer sleeps with postgres: it stops before
// postgres stops (its server connections end) and starts again with the wake. PgBouncer
// connects to postgres only for its clients, and its door lets them in once postgres is
// ready and PgBouncer listens, so it never connects to a postgres that is not there (and
// never enters its server_login_retry back-off). Sessions through PgBouncer's door are
// client sessions like the others.
//
// With the handoff (idle/handoff.h: the shim is there and the kernel allows it) postgres
// listens on the client port itself, in reuseport groups with the door's listeners: while it
// is ready the door steers every new TCP connection to it and relays nothing but the clients
// it held during a wake (and the Unix socket's). Those direct sessions are counted from
// pg_stat_activity (idle/direct_sessions.h). Before a sleep the door steers new connections
// back to itself, and the node sleeps only if a last count still finds no session.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "backup/manager.h"
#include "config/config.h"
#include "idle/direct_sessions.h"
#include "idle/door.h"
#include "idle/handoff.h"
#include "node/node.h"
#include "pooler/pooler.h"
#include "process/event_loop.h"
#include "state/node_state.h"

namespace pgrt {

// A copy of `config` for everything that talks to postgres: with PGRT_IDLE_TIMEOUT postgres
// listens on 127.0.0.1 at a free private port (and its socket is named by that port), while
// the door holds POSTGRES_PORT; with PgBouncer, PgBouncer too listens on 127.0.0.1 at a
// private port of its own (PGBOUNCER_PORT is held by its door). Unchanged without it.
// With the handoff postgres keeps POSTGRES_PORT and the listen addresses (shared with the
// door), adds the private relay address (pgdata/settings.h), and puts its socket in a
// private directory inside the socket directory (the door holds the public socket).
Result<Config> PostgresFacingConfig(const Config& config, bool handoff = false);

// The private socket directory of postgres with the handoff.
std::string PrivateSocketDir(const Config& config);

// The handoff's plan for `config` (an error says why the node relays instead).
Result<HandoffPlan> PlanClientHandoff(const Config& config, uid_t postgres_uid);

class Sleeper {
 public:
  // `config`: as the user gave it (the door holds its POSTGRES_PORT and listen addresses);
  // `facing`: PostgresFacingConfig(config) (postgres's and PgBouncer's private ports);
  // `pooler`: PgBouncer when enabled, else null. `handoff`: the plan when postgres shares
  // the client port (its listeners go to the door), else null.
  Sleeper(EventLoop& loop, const Config& config, const Config& facing, Node& node, NodeState& state,
          const BackupManager& backups, Pooler* pooler, HandoffPlan* handoff);
  ~Sleeper();
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;

  // Holds the client port (before postgres starts).
  Status Listen();
  // postgres became ready (a start, a wake, a restart after a crash).
  void OnReady();
  // The postmaster exited (a sleep, a stop, a crash): new clients wait at the door.
  void OnPostgresExit();
  // The API's hibernate and wake go through here, so the door holds clients first.
  void Hibernate(std::string why, std::function<void(Mode)> done);
  void Wake(std::string why, std::function<void(Mode)> done);

 private:
  void OnSessions();
  // Client sessions through both doors (held or relayed).
  size_t Sessions() const;
  size_t Held() const;
  // PgBouncer starts again (with the wake, alongside postgres).
  void ResumePooler();
  // postgres is ready: PgBouncer's door opens once PgBouncer listens (probed, since
  // PgBouncer tells no one).
  void ReadyPooler();
  void ProbePooler();
  // The wake is complete once every door is open: it is recorded with the longest wait.
  void FinishWake(std::optional<Millis> waited);
  void ArmIdle();
  void OnIdle();
  // The handoff: new clients wait at the door, a last count, then sleep (or open again).
  void ConfirmIdle();
  // A relay found no postgres: once the node has noticed, the door opens again if it runs.
  void OnGone();
  void HibernatePostgres(std::string why, std::function<void(Mode)> done);
  // Why the node may not sleep now; "" when it may.
  std::string Busy() const;
  void WakeFor(const std::string& why);
  void ArmScheduledWake();
  void Publish();

  EventLoop& loop_;
  const Config& config_;
  Node& node_;
  NodeState& state_;
  const BackupManager& backups_;
  Pooler* pooler_;
  std::unique_ptr<ClientDoor> door_;
  std::unique_ptr<ClientDoor> pooler_door_;  // with PgBouncer
  std::unique_ptr<DirectSessions> direct_;   // with the handoff
  EventLoop::TimerId gone_timer_ = 0;
  EventLoop::TimerId confirm_timer_ = 0;
  bool confirming_ = false;       // ConfirmIdle's last count is under way
  int pooler_port_ = 0;           // PgBouncer's private port
  std::string pooler_unix_path_;  // and its socket
  EventLoop::TimerId pooler_probe_ = 0;
  int pooler_probes_ = 0;  // since postgres became ready
  // A wake whose record waits for PgBouncer's door (how long postgres's clients waited).
  std::optional<std::optional<Millis>> pending_wake_;
  SleepState sleep_;
  EventLoop::TimerId idle_timer_ = 0;
  EventLoop::TimerId schedule_timer_ = 0;
  std::string wake_why_;  // what asked for the wake under way
  SteadyTime asleep_steady_{};
};

}  // namespace pgrt
