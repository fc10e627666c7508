// Monitor: observes postgres from the event loop (role, replay lag, WAL receiver) once a
// second and on demand, so the role checks answer from memory at any request rate.
// On a replica whose WAL receiver does not stream, it also tries the replication login to
// the primary now and then, on a thread of its own: a refused password is a warning and
// the node's status message, not a silent retry.
#pragma once

#include <future>
#include <optional>
#include <string>

#include "node/context.h"
#include "node/state.h"
#include "pg/connection.h"
#include "process/event_loop.h"

namespace pgrt {

class Monitor {
 public:
  Monitor(const NodeContext& ctx, NodeState& state, EventLoop& loop)
      : ctx_(ctx), state_(state), loop_(loop) {}

  void Start();         // the periodic observation
  void RefreshNow();    // one observation now (after readiness, promote, ...)
  // The loop's connection to postgres (made on demand); nullptr when it cannot connect.
  PgConn* Connection();

 private:
  void Observe();
  void CheckReplicationLogin(bool streaming);

  const NodeContext& ctx_;
  NodeState& state_;
  EventLoop& loop_;
  std::optional<PgConn> conn_;
  // The replication login check: its error ("" accepted) once done. Bounded by its
  // connect_timeout; the destructor waits for it.
  std::future<std::string> login_check_;
  int not_streaming_ticks_ = 0;
  SteadyTime next_login_check_{};
  bool login_refused_ = false;  // the status message says so
};

}  // namespace pgrt
