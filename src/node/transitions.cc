// The node's transition table. Rows are tried in order for the current mode; the first
// whose guard holds is taken. A row with an action starts work (its result arrives as a
// later observation); a row without one records what was observed.
#include "node/controller.h"

namespace pgrt {
namespace {

using A = ControllerActions;

bool StopWanted(const Desired& d, const Observed&) { return d.stop; }
bool SleepWanted(const Desired& d, const Observed&) { return !d.stop && !d.awake; }
bool WakeWanted(const Desired& d, const Observed&) { return !d.stop && d.awake; }
bool Ready(const Desired& d, const Observed& o) { return d.awake && !d.stop && o.ready; }
bool Down(const Desired&, const Observed& o) { return !o.postgres_running; }
bool NotReady(const Desired&, const Observed& o) { return !o.ready; }
bool GaveUp(const Desired&, const Observed& o) { return o.gave_up; }

}  // namespace

const std::vector<Transition>& TransitionTable() {
  static const std::vector<Transition> kTable = {
      // A crash loop ends everything, whatever was wanted.
      {Mode::kStarting, Mode::kFailed, GaveUp, "postgres keeps failing to start", nullptr},
      {Mode::kRestarting, Mode::kFailed, GaveUp, "postgres keeps crashing", nullptr},
      {Mode::kWaking, Mode::kFailed, GaveUp, "postgres keeps failing to start", nullptr},
      // Stopping wins over every other wish.
      {Mode::kStarting, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kRunning, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kRestarting, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kHibernating, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kHibernated, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kWaking, Mode::kStopping, StopWanted, "", &A::Shutdown},
      {Mode::kFailed, Mode::kStopping, StopWanted, "", &A::Shutdown},
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
  };
  return kTable;
}

}  // namespace pgrt
