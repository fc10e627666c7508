// Monitor: observes postgres from the event loop (role, replay lag, WAL receiver) once a
// second and on demand, so the role checks answer from memory at any request rate.
#pragma once

#include <optional>

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

  const NodeContext& ctx_;
  NodeState& state_;
  EventLoop& loop_;
  std::optional<PgConn> conn_;
};

}  // namespace pgrt
