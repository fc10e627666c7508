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
#include "node/controller.h"
#include "node/monitor.h"
#include "node/state.h"
#include "node/timings.h"
#include "process/command.h"
#include "process/event_loop.h"
#include "process/supervisor.h"
#include "replication/control.h"

namespace pgrt {

class Pooler;

class Node : private ControllerActions {
 public:
  Node(NodeContext ctx, NodeState& state, Timings& timings, const Clock& clock);

  Status Prepare(Waiter& waiter);

  // Registers postgres with the supervisor and starts it. `on_fatal` is called when the
  // supervisor gives up (too many crashes).
  Status Start(EventLoop& loop, Supervisor& supervisor, std::vector<std::string> extra_args,
               std::function<void(const std::string&)> on_fatal);

  // sig: SIGINT (fast) or SIGQUIT (immediate). `done` runs once postgres has exited.
  void Shutdown(int sig, std::function<void()> done);

  // The lifecycle, through the controller (node/controller.h). Hibernate: postgres stops
  // cleanly and pgrt keeps serving; Wake: it starts again. Both idempotent; `done` runs
  // with the mode reached (hibernated or running, or where it ended instead).
  void Hibernate(std::string why, std::function<void(Mode)> done);
  void Wake(std::string why, std::function<void(Mode)> done);
  // A stop request (a signal): the controller's Shutdown action runs `on_shutdown`.
  void RequestStop(std::string why) { controller_.Stop(std::move(why)); }
  void OnShutdown(std::function<void()> cb) { on_shutdown_ = std::move(cb); }
  Mode mode() const { return controller_.mode(); }

  // After a successful control action through the API (on the loop's thread): a
  // promotion is recorded in PGDATA so a restart never demotes this node silently.
  // `then` runs once the node has observed postgres again (read-your-writes for views).
  void AfterControl(ControlVerb verb, std::function<void()> then = nullptr);

  const NodeContext& context() const { return ctx_; }

  // PgBouncer in front of postgres (PGBOUNCER_ENABLED): started at the first readiness,
  // stopped before postgres. Set before Start(); not owned.
  void SetPooler(Pooler* pooler) { pooler_ = pooler; }
  // SIGHUP: postgres and PgBouncer reload their configuration.
  void Reload();

  // Runs on the loop each time postgres becomes ready (first start and after restarts).
  void OnReady(std::function<void()> cb) { on_ready_ = std::move(cb); }

 private:
  // ControllerActions: what the controller's table starts.
  void StartPostgres() override;
  void StopPostgres() override;
  void Shutdown() override;
  void Observe(bool running, bool ready, bool gave_up = false);

  void WatchReadiness(pid_t pid, Millis delay);
  // Looks at the volumes, publishes them and their fault (if any) in NodeState, logs a
  // change; returns the fault. WatchDisks does it every second.
  std::optional<std::string> CheckDisks();
  void WatchDisks();
  // Work that must be done before the node counts as ready (off the loop); retried
  // shortly when it fails.
  void FinishStart(pid_t pid, const std::string& postmaster_status);
  void MarkReady(pid_t pid);
  void StartPooler();

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
  std::function<void()> on_shutdown_;
  Controller controller_;
};

}  // namespace pgrt
