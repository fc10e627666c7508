#include "node/controller.h"

#include <spdlog/spdlog.h>

namespace pgrt {

const char* ToString(Mode m) {
  switch (m) {
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
    case Mode::kStopping:
      return "stopping";
    case Mode::kStopped:
      return "stopped";
    case Mode::kFailed:
      return "failed";
  }
  return "unknown";
}

Controller::Controller(ControllerActions& actions, const Clock& clock, Mode initial)
    : actions_(actions), clock_(clock), mode_(initial) {}

void Controller::Hibernate(std::string why) {
  desired_.awake = false;
  desired_.awake_why = std::move(why);
  Reconcile();
}

void Controller::Wake(std::string why) {
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
    if (why.empty()) why = row->to == Mode::kStopping ? desired_.stop_why : desired_.awake_why;
    TransitionRecord rec{clock_.WallNow(), mode_, row->to, why};
    spdlog::info("node: {} → {}: {}", ToString(rec.from), ToString(rec.to), rec.why);
    mode_ = row->to;
    history_.push_back(rec);
    if (history_.size() > kHistory) history_.pop_front();
    if (on_move_) on_move_(rec);
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
