// The node's transition table. Rows are tried in order for the current mode; the first
// whose guard holds is taken. A row with an action starts work (its result arrives as a
// later observation); a row without one records what was observed.
#include "node/controller.h"

namespace pgrt {
namespace {

using A = ControllerActions;

bool StopWanted(const Desired& d, const Observed&) { return d.stop; }
bool SleepWanted(const Desired& d, const Observed&) { return !d.stop && !d.awake; }
// A wake whose postgres kept failing leaves the node asleep until someone asks again
// (Controller::Wake forgets that give-up).
bool WakeWanted(const Desired& d, const Observed& o) { return !d.stop && d.awake && !o.gave_up; }
bool Ready(const Desired& d, const Observed& o) { return d.awake && !d.stop && o.ready; }
bool Down(const Desired&, const Observed& o) { return !o.postgres_running; }
bool NotReady(const Desired&, const Observed& o) { return !o.ready; }
bool GaveUp(const Desired&, const Observed& o) { return o.gave_up; }
// Role changes are made on a running node that is meant to stay up, and only when a source
// asked for another topology than the one its files are set up for: postgres promoted
// behind pgrt's back is not demoted (and its writes not rewound away).
bool Steady(const Desired& d, const Observed& o) { return d.awake && !d.stop && o.ready; }
bool Wanted(const Desired& d, const Observed& o) {
  return Steady(d, o) && !(o.applied == d.topology);
}
bool PromoteWanted(const Desired& d, const Observed& o) {
  return Wanted(d, o) && !d.topology.replica() && o.role == PgRole::kReplica;
}
bool RepointWanted(const Desired& d, const Observed& o) {
  return Wanted(d, o) && d.topology.replica() && o.role == PgRole::kReplica;
}
// A standby whose data may have forked (a fenced former leader) follows a primary only after
// pg_rewind: stopped, rewound, started.
bool RewindWanted(const Desired& d, const Observed& o) {
  return Wanted(d, o) && d.topology.replica() && !d.topology.waiting() &&
         o.role == PgRole::kReplica && o.rewind_needed;
}
// The wish changed to a writable node while a re-point was under way: back to running, from
// where the promotion starts.
bool RepointWithdrawn(const Desired& d, const Observed&) { return !d.topology.replica(); }
bool ForkedFromUpstream(const Desired& d, const Observed& o) {
  return Steady(d, o) && o.forked && o.role == PgRole::kReplica && d.topology.replica() &&
         !d.topology.waiting();
}
bool DemoteWanted(const Desired& d, const Observed& o) {
  return Wanted(d, o) && d.topology.replica() && o.role == PgRole::kPrimary;
}
bool Settled(const Desired& d, const Observed& o) { return o.applied == d.topology; }
bool Promoted(const Desired& d, const Observed& o) {
  return Settled(d, o) && o.role == PgRole::kPrimary;
}
bool ActionFailed(const Desired&, const Observed& o) { return o.action_failed; }
// A replica rewound to follow the upstream it already followed has files that named it all
// along: only the cleared mark says pg_rewind is done.
bool Rewound(const Desired& d, const Observed& o) { return Settled(d, o) && !o.forked; }
bool RecloneAllowed(const Desired& d, const Observed& o) { return o.action_failed && d.reclone; }
bool Recloned(const Desired& d, const Observed& o) { return !o.action_failed && Settled(d, o); }
// A node that could not rejoin one primary (a leader whose WAL no longer reaches back to the
// fork, say) tries again when another primary leads: its history may well suit.
bool NewPrimaryToRejoin(const Desired& d, const Observed& o) {
  return !d.stop && d.topology.replica() && !d.topology.waiting() && o.failed_for &&
         !(d.topology.upstream == o.failed_for->upstream);
}

}  // namespace

const std::vector<Transition>& TransitionTable() {
  static const std::vector<Transition> kTable = {
      // A crash loop ends everything, whatever was wanted.
      {Mode::kStarting, Mode::kFailed, GaveUp, "postgres keeps failing to start", nullptr},
      {Mode::kRestarting, Mode::kFailed, GaveUp, "postgres keeps crashing", nullptr},
      // A wake that fails (a bad setting, a full disk) is not the end of pgrt: asleep again,
      // the error in status, and the next client or request tries again.
      {Mode::kWaking, Mode::kHibernated, GaveUp,
       "postgres keeps failing to start: asleep until the next wake", nullptr},
      // Stopping wins over every other wish.
      {Mode::kStarting, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kRunning, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kRestarting, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kHibernating, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kHibernated, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kWaking, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kFailed, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kPromoting, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kRepointing, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kDemoting, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kRewinding, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kRecloning, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kCannotRejoin, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kStopping, Mode::kStopped, Down, "postgres stopped", nullptr},
      // Start-up and crashes.
      {Mode::kStarting, Mode::kHibernating, SleepWanted, "", &A::StopPostgres},
      {Mode::kStarting, Mode::kRunning, Ready, "postgres is ready", nullptr},
      {Mode::kRunning, Mode::kHibernating, SleepWanted, "", &A::StopPostgres},
      {Mode::kRunning, Mode::kRestarting, NotReady, "postgres exited unexpectedly", nullptr},
      {Mode::kRestarting, Mode::kHibernating, SleepWanted, "", &A::StopPostgres},
      {Mode::kRestarting, Mode::kRunning, Ready, "postgres is ready again", nullptr},
      // Hibernation: postgres stopped on request, pgrt serving; and back.
      {Mode::kHibernating, Mode::kHibernated, Down, "postgres stopped", nullptr},
      {Mode::kHibernated, Mode::kWaking, WakeWanted, "", &A::StartPostgres},
      {Mode::kWaking, Mode::kHibernating, SleepWanted, "", &A::StopPostgres},
      {Mode::kWaking, Mode::kRunning, Ready, "postgres is ready", nullptr},
      // Role changes: promote a replica; point it at another primary; turn a primary into a
      // replica of another (stop, pg_rewind, start as a replica).
      {Mode::kRunning, Mode::kPromoting, PromoteWanted, "", &A::Promote},
      {Mode::kRunning, Mode::kDemoting, RewindWanted, "", &A::StopPostgres},
      {Mode::kRunning, Mode::kDemoting, ForkedFromUpstream,
       "its data went past the point where its primary's timeline forked off", &A::StopPostgres},
      {Mode::kRunning, Mode::kRepointing, RepointWanted, "", &A::Repoint},
      {Mode::kRunning, Mode::kDemoting, DemoteWanted, "", &A::StopPostgres},
      {Mode::kPromoting, Mode::kRunning, Promoted, "postgres left recovery: a primary now",
       nullptr},
      {Mode::kPromoting, Mode::kRunning, Settled, "", nullptr},  // refused: the wish was withdrawn
      // A replica that holds WAL past the point where the new primary's timeline forked off
      // its own (found while re-pointing) is rewound first.
      {Mode::kRepointing, Mode::kDemoting, RewindWanted,
       "its data went past the point where the new primary's timeline forked off",
       &A::StopPostgres},
      {Mode::kRepointing, Mode::kRunning, Settled, "following the new primary", nullptr},
      {Mode::kRepointing, Mode::kRunning, RepointWithdrawn, "", nullptr},
      {Mode::kDemoting, Mode::kRewinding, Down, "postgres stopped", &A::Rewind},
      // pg_rewind failed every try (the node retries it first): a new clone where the user
      // allowed one, else postgres stays stopped and pgrt says why; pgrt keeps running.
      {Mode::kRewinding, Mode::kRecloning, RecloneAllowed,
       "pg_rewind keeps failing: moving the data aside to clone the primary again", &A::Reclone},
      {Mode::kRewinding, Mode::kCannotRejoin, ActionFailed,
       "pg_rewind keeps failing and PGRT_REPLICA_RECLONE is off: postgres stays stopped", nullptr},
      {Mode::kRewinding, Mode::kStarting, Rewound, "pg_rewind finished", &A::StartPostgres},
      {Mode::kRecloning, Mode::kCannotRejoin, ActionFailed,
       "the new clone failed: postgres stays stopped", nullptr},
      {Mode::kRecloning, Mode::kStarting, Recloned, "the new clone is in place", &A::StartPostgres},
      {Mode::kCannotRejoin, Mode::kRewinding, NewPrimaryToRejoin,
       "another primary leads: trying pg_rewind from it", &A::Rewind},
  };
  return kTable;
}

}  // namespace pgrt
