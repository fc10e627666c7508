#include "node/controller.h"

#include <spdlog/spdlog.h>

namespace pgrt {

const char* ToString(Mode m) {
  switch (m) {
    case Mode::kInitializing:
      return "initializing";
    case Mode::kCloning:
      return "cloning";
    case Mode::kRestoring:
      return "restoring";
    case Mode::kStarting:
      return "starting";
    case Mode::kRunning:
      return "running";
    case Mode::kRestarting:
      return "restarting";
    case Mode::kHibernating:
      return "hibernating";
    case Mode::kHibernated:
      return "hibernated";
    case Mode::kWaking:
      return "waking";
    case Mode::kPromoting:
      return "promoting";
    case Mode::kRepointing:
      return "repointing";
    case Mode::kDemoting:
      return "demoting";
    case Mode::kRewinding:
      return "rewinding";
    case Mode::kRecloning:
      return "recloning";
    case Mode::kCannotRejoin:
      return "cannot_rejoin";
    case Mode::kStopping:
      return "stopping";
    case Mode::kStopped:
      return "stopped";
    case Mode::kFailed:
      return "failed";
  }
  return "unknown";
}

Controller::Controller(ControllerActions& actions, const Clock& clock, Mode initial,
                       Topology topology)
    : actions_(actions), clock_(clock), mode_(initial) {
  desired_.topology = topology;
  observed_.applied = std::move(topology);
}

void Controller::SetTopology(Topology t, std::string why) {
  desired_.topology = std::move(t);
  desired_.topology_why = std::move(why);
  Reconcile();
}

void Controller::Assume(Topology t) {
  desired_.topology = t;
  observed_.applied = std::move(t);
}

void Controller::Step(Mode to, std::string why) {
  if (to != mode_) Record(to, std::move(why));
}

void Controller::Record(Mode to, std::string why) {
  TransitionRecord rec{clock_.WallNow(), mode_, to, std::move(why)};
  spdlog::info("node: {} → {}: {}", ToString(rec.from), ToString(rec.to), rec.why);
  mode_ = to;
  history_.push_back(rec);
  if (history_.size() > kHistory) history_.pop_front();
  if (on_move_) on_move_(history_.back());
}

namespace {

// A row without a reason of its own gives the wish's.
const std::string& WishWhy(const Desired& d, Mode to) {
  switch (to) {
    case Mode::kStopping:
      return d.stop_why;
    case Mode::kPromoting:
    case Mode::kRepointing:
    case Mode::kDemoting:
    case Mode::kRunning:  // a role change that did not happen says why
      return d.topology_why;
    default:
      return d.awake_why;
  }
}

}  // namespace

void Controller::Hibernate(std::string why) {
  desired_.awake = false;
  desired_.awake_why = std::move(why);
  Reconcile();
}

void Controller::Wake(std::string why) {
  // A new request is a new try, whatever became of the last wake.
  if (mode_ == Mode::kHibernated) observed_.gave_up = false;
  desired_.awake = true;
  desired_.awake_why = std::move(why);
  Reconcile();
}

void Controller::Stop(std::string why) {
  if (desired_.stop) return;
  desired_.stop = true;
  desired_.stop_why = std::move(why);
  Reconcile();
}

void Controller::Observe(const Observed& o) {
  observed_ = o;
  observed_fresh_ = true;
  Reconcile();
}

void Controller::When(std::vector<Mode> modes, std::function<void()> cb) {
  for (Mode m : modes)
    if (m == mode_) return cb();
  waiters_.emplace_back(std::move(modes), std::move(cb));
}

void Controller::Reconcile() {
  // An action may observe synchronously (a fake, or a child that failed to spawn): the
  // outer call goes round again instead of nesting.
  if (reconciling_) {
    again_ = true;
    return;
  }
  reconciling_ = true;
  // Every row changes the mode and the table has no cycle without an outside event, so
  // this ends; the bound only guards against a table edited into one.
  for (int step = 0; step < 32; ++step) {
    again_ = false;
    const Transition* row = nullptr;
    for (const Transition& t : TransitionTable()) {
      // A row without an action records an observation: it needs one made after the last
      // action (before it, "postgres is down" may be the state the action just changed).
      if (t.action == nullptr && !observed_fresh_) continue;
      if (t.from == mode_ && t.guard(desired_, observed_)) {
        row = &t;
        break;
      }
    }
    if (row == nullptr) {
      if (again_) continue;
      break;
    }
    std::string why = row->why;
    if (why.empty()) why = WishWhy(desired_, row->to);
    Record(row->to, std::move(why));
    if (row->action != nullptr) {
      observed_fresh_ = false;
      (actions_.*(row->action))();
    }
    // Waiters for the new mode (taken out first: a callback may add waiters).
    std::vector<std::pair<std::vector<Mode>, std::function<void()>>> waiters;
    waiters.swap(waiters_);
    for (auto& [modes, cb] : waiters) {
      bool hit = false;
      for (Mode m : modes) hit = hit || m == mode_;
      if (hit)
        cb();
      else
        waiters_.emplace_back(std::move(modes), std::move(cb));
    }
  }
  reconciling_ = false;
}

}  // namespace pgrt
