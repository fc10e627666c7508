// Controller: the one owner of the node's lifecycle. Desired state comes from sources —
// configuration, API requests (hibernate, wake, stop), later a consensus store and the idle
// proxy — and observed state from what the loop saw of postgres. The moves are a table
// (transitions.cc: from, to, guard, why, action), and one function, Reconcile(), takes the
// first row that applies, logs the move ("node: running → hibernating: hibernate requested
// through the API"), keeps it in a short history and runs the row's action through the
// narrow ControllerActions interface. Actions only start work; their outcome comes back as
// a new observation, which reconciles again. Tests drive the table with fake actions.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "pgdata/topology.h"
#include "state/node_state.h"
#include "util/clock.h"

namespace pgrt {

enum class Mode {
  kInitializing,  // a new cluster is being made (initdb)
  kCloning,       // a new replica is being cloned from its primary (pg_basebackup)
  kRestoring,     // a new cluster is being restored from a backup
  kStarting,      // postgres is being started (first start, or after pgrt started)
  kRunning,       // postgres accepts connections
  kRestarting,    // postgres exited unexpectedly; the supervisor restarts it
  kHibernating,   // postgres is being stopped on request; pgrt keeps serving
  kHibernated,    // postgres is stopped on request; pgrt keeps serving
  kWaking,        // postgres is being started again after hibernation
  kPromoting,     // a replica is being promoted (pg_promote)
  kRepointing,    // a replica is being pointed at another primary (reload, no restart)
  kDemoting,      // a primary is being stopped to rejoin as a replica
  kRewinding,     // pg_rewind makes its data a copy of the new primary's history
  kRecloning,     // pg_rewind kept failing: the data is moved aside and the primary cloned
  kCannotRejoin,  // neither worked (or re-cloning is not allowed): postgres stays stopped
  kStopping,      // everything is being stopped; pgrt exits afterwards
  kStopped,       // postgres has stopped for good
  kFailed,        // the supervisor gave up on postgres
};
const char* ToString(Mode m);

// What the sources ask for. Each wish carries why, for the log and the history.
struct Desired {
  bool awake = true;  // false: hibernate (postgres stopped, pgrt serving)
  bool stop = false;  // shut down
  Topology topology;  // the role and, for a replica, whom it follows
  // PGRT_REPLICA_RECLONE: data that cannot be rewound may be moved aside and cloned again.
  bool reclone = false;
  std::string awake_why = "configuration";
  std::string stop_why;
  std::string topology_why = "configuration";
};

// What the loop saw.
struct Observed {
  bool postgres_running = false;       // the supervised postmaster exists
  bool ready = false;                  // it accepts connections and pgrt's set-up is done
  bool gave_up = false;                // the supervisor gave up (crash loop)
  PgRole role = PgRole::kUnknown;      // what postgres reports (pg_is_in_recovery)
  Topology applied;                    // what postgres's files and settings are set up for
  bool action_failed = false;          // the last role action (pg_rewind, a re-clone) failed
  std::optional<Topology> failed_for;  // the topology that action was for
  // The data took writes as a primary since it last followed one: following another
  // primary needs pg_rewind first.
  bool rewind_needed = false;
  // While it followed its primary, the replica was found holding WAL past the point where
  // that primary's timeline forked off its own (it replayed WAL it had received from an older
  // primary after it was re-pointed): it follows again only after pg_rewind.
  bool forked = false;
};

class ControllerActions {
 public:
  virtual ~ControllerActions() = default;
  virtual void StartPostgres() = 0;  // start the supervised postmaster
  virtual void StopPostgres() = 0;   // stop it cleanly; pgrt stays
  virtual void Shutdown() = 0;       // stop everything; pgrt exits once postgres is gone
  virtual void Promote() = 0;        // pg_promote; then the files of a writable node
  virtual void Repoint() = 0;        // primary_conninfo and slot for the new primary; reload
  virtual void Rewind() = 0;         // pg_rewind from the new primary; then a replica's files
  virtual void Reclone() = 0;  // data aside, pg_basebackup from the primary; a replica's files
};

struct TransitionRecord {
  SystemTime at;
  Mode from;
  Mode to;
  std::string why;
};

// One row of the table.
struct Transition {
  Mode from;
  Mode to;
  bool (*guard)(const Desired&, const Observed&);
  const char* why;                      // empty: the wish's own reason (Desired::*_why)
  void (ControllerActions::*action)();  // null: nothing to start, the move is observed
};
const std::vector<Transition>& TransitionTable();

class Controller {
 public:
  static constexpr size_t kHistory = 20;

  Controller(ControllerActions& actions, const Clock& clock, Mode initial = Mode::kStarting,
             Topology topology = {});
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Sources say what they want; each call reconciles.
  void Hibernate(std::string why);
  void Wake(std::string why);
  void Stop(std::string why);
  // The role and upstream wanted (promote, follow another primary).
  void SetTopology(Topology t, std::string why);
  // The topology the node starts with (wanted and applied alike); no move.
  void Assume(Topology t);
  // Whether a node that cannot be rewound may be cloned again (configuration); no move.
  void AllowReclone(bool allowed) { desired_.reclone = allowed; }
  // Start-up steps before postgres runs (initializing, cloning, restoring, starting): recorded
  // as moves, no action.
  void Step(Mode to, std::string why);
  // The loop's latest observation; reconciles.
  void Observe(const Observed& o);

  Mode mode() const { return mode_; }
  const Desired& desired() const { return desired_; }
  const std::deque<TransitionRecord>& history() const { return history_; }
  // Runs `cb` once the mode is one of `modes` (at once when it already is).
  void When(std::vector<Mode> modes, std::function<void()> cb);
  // Called after every move (for NodeState and metrics).
  void OnMove(std::function<void(const TransitionRecord&)> cb) { on_move_ = std::move(cb); }

 private:
  void Reconcile();
  void Record(Mode to, std::string why);

  ControllerActions& actions_;
  const Clock& clock_;
  Mode mode_;
  Desired desired_;
  Observed observed_;
  bool observed_fresh_ = false;  // observed_ was seen after the last action started
  std::deque<TransitionRecord> history_;
  std::vector<std::pair<std::vector<Mode>, std::function<void()>>> waiters_;
  std::function<void(const TransitionRecord&)> on_move_;
  bool reconciling_ = false;
  bool again_ = false;
};

}  // namespace pgrt
