// Node: runs one PostgreSQL node on the event loop. Prepare() does the start-up work;
// Start() hands postgres to the supervisor and watches it become ready; Shutdown() stops
// it. The controller (node/controller.h) decides every move; the node carries out its
// actions (start, stop, promote, re-point, rewind) and reports what it observed. The
// supervisor runs postgres; a rewind or a re-clone is a task on the loop (rejoin.cc).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/controller.h"
#include "node/monitor.h"
#include "node/promotion_nudge.h"
#include "pgdata/context.h"
#include "pgdata/topology.h"
#include "process/awaitables.h"
#include "process/cancel.h"
#include "process/event_loop.h"
#include "process/supervisor.h"
#include "process/task.h"
#include "replication/control.h"
#include "state/node_state.h"
#include "state/timings.h"

namespace pgrt {

class Pooler;

class Node : private ControllerActions {
 public:
  Node(NodeContext ctx, NodeState& state, Timings& timings, const Clock& clock);

  // The start-up work before postgres first runs (a task on the loop: initdb, a clone or a
  // restore, the files). `cluster`: with PGRT_HA, the topology the cluster chose for this
  // boot.
  Task<Status> Prepare(const TaskContext& tc, std::optional<Topology> cluster = std::nullopt);

  // Registers postgres with the supervisor and starts it. `on_fatal` is called when the
  // supervisor gives up (too many crashes). `exits` gets the exits of the node's commands
  // (pg_rewind, a re-clone's pg_basebackup) from the loop's reaper.
  Status Start(EventLoop& loop, ChildExits& exits, Supervisor& supervisor,
               std::vector<std::string> extra_args,
               std::function<void(const std::string&)> on_fatal);

  // sig: SIGINT (fast) or SIGQUIT (immediate). `done` runs once postgres has exited. A
  // rejoin under way is cancelled first and ends before the rest stops (its command's
  // process group gets SIGTERM, then SIGKILL after 5 s).
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

  // Role changes, through the controller. Promote: this replica becomes a primary.
  // Follow: this node replicates from `up` (a replica is re-pointed without a restart; a
  // primary is stopped, rewound with pg_rewind and started as a replica). `done` gets a
  // message once the node runs in its new role, or an error whose code says why not
  // (kFailedPrecondition: wrong role or state; kUnavailable; kInternal: the action failed).
  // The new topology is kept in the role file across restarts.
  using RoleDone = std::function<void(Result<std::string>)>;
  void Promote(std::string why, RoleDone done);
  void Follow(Upstream up, std::string why, RoleDone done);
  // The cluster's wish (PGRT_HA): lead (a writable topology), follow the leader, or wait for
  // one (fenced). No checks and no answer: the election already decided, and a later wish
  // replaces this one.
  void SteerTo(Topology t, std::string why);
  // With PGRT_HA: whether a writable node may start postgres as a primary now (it holds the
  // leader key); when not, every (re)start makes it a standby first. Set before Start().
  void SetMayWrite(std::function<bool()> may_write) { may_write_ = std::move(may_write); }
  const Topology& applied() const { return applied_; }
  // Runs `cb` once postgres has stopped for a role change (a demotion) or for good.
  void WhenDown(std::function<void()> cb) {
    controller_.When(
        {Mode::kRewinding, Mode::kStarting, Mode::kStopped, Mode::kFailed, Mode::kCannotRejoin},
        std::move(cb));
  }
  const Topology& desired_topology() const { return controller_.desired().topology; }
  bool rewind_needed() const { return rewind_needed_; }

  // After a successful control action through the API (pause, resume, slots): `then` runs
  // once the node has observed postgres again (read-your-writes for views).
  void AfterControl(ControlVerb verb, std::function<void()> then = nullptr);
  const NodeContext& context() const { return ctx_; }

  // PgBouncer in front of postgres (PGBOUNCER_ENABLED): started at the first readiness,
  // stopped before postgres. Set before Start(); not owned.
  void SetPooler(Pooler* pooler) { pooler_ = pooler; }
  // SIGHUP: postgres and PgBouncer reload their configuration.
  void Reload();

  // Runs on the loop each time postgres becomes ready (first start and after restarts).
  void OnReady(std::function<void()> cb) { on_ready_ = std::move(cb); }
  // Sooner than OnReady: postgres accepts connections and pgrt's set-up is done, before the
  // monitor's first look (a client held for a wake goes through at this moment).
  void OnAccepting(std::function<void()> cb) { on_accepting_ = std::move(cb); }
  // Runs on the loop each time the postmaster exits (a stop, a crash), before any restart.
  void OnExit(std::function<void()> cb) { on_exit_ = std::move(cb); }
  // Variables postgres itself gets besides the scrubbed environment (not its tools, not the
  // temporary server). Set before Start().
  void AddPostgresEnvironment(std::map<std::string, std::string> env) {
    postgres_env_ = std::move(env);
  }

 private:
  // ControllerActions: what the controller's table starts.
  void StartPostgres() override;
  void StopPostgres() override;
  void Shutdown() override;
  void Promote() override;
  void Repoint() override;
  void Rewind() override;
  void Reclone() override;
  // The files of a replica of `want` and a reload (the re-point proper).
  void RepointFiles(const Topology& want);
  // Every few seconds: a replica whose WAL receiver does not stream asks its primary again
  // where its timeline forked (WAL already in pg_wal may have been replayed past that point
  // after the re-point's own check).
  void WatchFork();
  void Observe(bool running, bool ready, bool gave_up = false);
  // Tells the controller what the node sees now (lifecycle facts, postgres's role, the
  // topology its files are set up for).
  void Report();
  // Writes the files of topology `t` off the loop; then, on the loop, `done`.
  void WriteTopology(const Topology& t, const std::string& why, bool rewinding,
                     std::function<void(Status)> done);
  // A role action is done: the files match `t`.
  void Applied(const Topology& t);
  // A role action failed: the wish is withdrawn (promote, re-point) and the reason kept.
  void RoleActionFailed(const std::string& why);
  // Until pg_control says "in production" (the promotion is done), postgres stops, or the
  // deadline passes.
  void WaitPromoted(pid_t pid, SteadyTime deadline);
  Topology promoting_to_;  // the writable topology a promotion under way is for
  std::string promoting_why_;
  // The rejoin (rejoin.cc): one task per Rewind or Reclone action. It ends with an outcome
  // to tell the controller (Report), or quietly: pgrt stops, or the node moved on during
  // the pause between two tries of pg_rewind.
  enum class RejoinEnd { kReport, kQuiet };
  void StartRejoin(Task<RejoinEnd> task);
  void EndRejoin(RejoinEnd end);
  // pg_rewind until it succeeds or every try failed, then this node's files again.
  Task<RejoinEnd> RewindTask();
  // One try: the role file marked "rewinding", then pg_rewind from want's upstream.
  Task<Status> RunRewind(const Topology& want, const std::string& why);
  // PGDATA moved aside, pg_basebackup of want's upstream, the clone placed into PGDATA.
  Task<RejoinEnd> RecloneTask();
  Task<Status> CloneAgain(const Topology& want);
  // WriteTopology as a step of a task.
  Task<Status> WriteTopologyStep(const Topology& t, std::string why, bool rewinding);
  void CheckpointAfterPromotion();
  // Answers a role request once the controller settles.
  void WhenSettled(RoleDone done);

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
  std::function<void()> on_accepting_;
  std::function<void()> on_exit_;
  std::map<std::string, std::string> postgres_env_;
  std::function<void()> on_shutdown_;
  std::function<void(const std::string&)> on_fatal_;
  std::function<bool()> may_write_;
  // What the node last saw of its postgres (the controller's Observed is built from these).
  bool running_ = false;
  bool ready_ = false;
  bool gave_up_ = false;
  bool action_failed_ = false;
  std::optional<Topology> failed_for_;  // what the failed action was for
  Topology applied_;                    // the topology postgres's files are set up for
  std::string role_error_;              // why the last role action failed
  // The set-up SQL of a writable node (replication role, slot, PgBouncer's auth) is kept
  // in the catalog: once done in this pgrt's life it is skipped at later starts (a wake
  // pays only for postgres's own start), until a rewind or a promotion changes the data.
  bool set_up_done_ = false;
  bool rewind_needed_ = false;                     // see Observed::rewind_needed
  bool forked_ = false;                            // see Observed::forked
  bool fork_check_out_ = false;                    // WatchFork's question is under way
  std::optional<PromotionNudge> promotion_nudge_;  // while a promotion is under way
  Controller controller_;
  // The rejoin's task: cancelled when pgrt stops (Shutdown), which then waits for its end.
  CancelToken rejoin_cancel_;
  std::optional<TaskContext> tasks_;         // from Start(): the loop and its reaped exits
  bool rejoining_ = false;                   // a rejoin task runs
  uint64_t rejoin_id_ = 0;                   // the last one started
  std::function<void()> after_rejoin_stop_;  // a shutdown waiting for it to end
  // Last: its frames refer to the members above (the destructor ends a task under way,
  // killing and reaping its command).
  TaskHandle rejoin_;
};

}  // namespace pgrt
