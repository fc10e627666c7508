// Node: runs one PostgreSQL node on the event loop. Prepare() does the synchronous
// start-up work; Start() hands postgres to the supervisor and watches it become ready;
// Shutdown() stops it. The node decides; the supervisor runs children.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/context.h"
#include "node/monitor.h"
#include "node/state.h"
#include "node/timings.h"
#include "process/command.h"
#include "process/event_loop.h"
#include "process/supervisor.h"
#include "replication/control.h"

namespace pgrt {

class Pooler;

class Node {
 public:
  Node(NodeContext ctx, NodeState& state, Timings& timings, const Clock& clock)
      : ctx_(std::move(ctx)), state_(state), timings_(timings), clock_(clock) {
    ctx_.report_problem = [&state](const std::string& m) { state.SetMessage(m); };
  }

  Status Prepare(Waiter& waiter);

  // Registers postgres with the supervisor and starts it. `on_fatal` is called when the
  // supervisor gives up (too many crashes).
  Status Start(EventLoop& loop, Supervisor& supervisor, std::vector<std::string> extra_args,
               std::function<void(const std::string&)> on_fatal);

  // sig: SIGINT (fast) or SIGQUIT (immediate). `done` runs once postgres has exited.
  void Shutdown(int sig, std::function<void()> done);

  // After a successful control action through the API (on the loop's thread): a
  // promotion is recorded in PGDATA so a restart never demotes this node silently.
  void AfterControl(ControlVerb verb);

  const NodeContext& context() const { return ctx_; }

  // PgBouncer in front of postgres (PGBOUNCER_ENABLED): started at the first readiness,
  // stopped before postgres. Set before Start(); not owned.
  void SetPooler(Pooler* pooler) { pooler_ = pooler; }
  // SIGHUP: postgres and PgBouncer reload their configuration.
  void Reload();

  // Runs on the loop each time postgres becomes ready (first start and after restarts).
  void OnReady(std::function<void()> cb) { on_ready_ = std::move(cb); }

 private:
  void WatchReadiness(pid_t pid, Millis delay);
  // Looks at the volumes, publishes them and their fault (if any) in NodeState, logs a
  // change; returns the fault. WatchDisks does it every second.
  std::optional<std::string> CheckDisks();
  void WatchDisks();
  // Work that must be done before the node counts as ready; false: retry shortly.
  bool FinishStart(const std::string& postmaster_status);
  void StartPooler();
  void WarnIfPoolerAuthMissing();  // a replica: its primary does the set-up

  NodeContext ctx_;
  NodeState& state_;
  Timings& timings_;
  const Clock& clock_;
  EventLoop* loop_ = nullptr;
  Supervisor* supervisor_ = nullptr;
  EventLoop::TimerId readiness_timer_ = 0;
  EventLoop::TimerId disk_timer_ = 0;
  std::unique_ptr<Monitor> monitor_;
  Pooler* pooler_ = nullptr;
  std::function<void()> on_ready_;
};

}  // namespace pgrt
