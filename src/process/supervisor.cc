#include "process/supervisor.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <sstream>

#include "process/proc_children.h"
#include "util/fs.h"

namespace pgrt {
namespace {

// SIGCONT to every direct child of `parent` (/proc/PID/task/TID/children of each thread).
void ContinueChildren(pid_t parent) {
  for (pid_t child : ChildrenOf(parent)) ::kill(child, SIGCONT);  // ESRCH: exited, as wanted
}

}  // namespace

void Supervisor::Add(const std::string& name, ServiceSpec spec, ServiceEvents events) {
  auto s = std::make_unique<Service>();
  s->spec = std::move(spec);
  s->events = std::move(events);
  services_[name] = std::move(s);
}

Supervisor::Service* Supervisor::Find(const std::string& name) {
  auto it = services_.find(name);
  return it == services_.end() ? nullptr : it->second.get();
}

const Supervisor::Service* Supervisor::Find(const std::string& name) const {
  auto it = services_.find(name);
  return it == services_.end() ? nullptr : it->second.get();
}

Status Supervisor::Start(const std::string& name) {
  Service* s = Find(name);
  if (s == nullptr) return Status::Error("start " + name + ": unknown service");
  // An asked-for start (a wake, a start after pg_rewind) counts its crashes anew: those of
  // an earlier run, or of a wake that failed, are not this one's.
  if (!(s->child && s->child->running())) {
    s->crashes.clear();
    s->faults = 0;
  }
  return Launch(name);
}

Status Supervisor::Launch(const std::string& name) {
  Service* s = Find(name);
  if (s == nullptr) return Status::Error("start " + name + ": unknown service");
  if (s->child && s->child->running()) return Status::Ok();
  s->stopping = false;
  if (s->preparing) return Status::Ok();  // a start is under way; it spawns when prepared
  if (!s->spec.before_start) return Spawn(name, *s);
  s->preparing = true;
  const uint64_t attempt = ++s->attempt;
  // A `done` called before before_start returns hands its outcome to our caller (a failed
  // first start is the caller's to report); a later one handles a failure as a crash.
  auto in_start = std::make_shared<bool>(true);
  auto outcome = std::make_shared<Status>();
  s->spec.before_start([this, name, attempt, in_start, outcome](Status prepared) {
    Status st = AfterPrepare(name, attempt, std::move(prepared), *in_start);
    if (*in_start) *outcome = std::move(st);
  });
  *in_start = false;
  return *outcome;
}

Status Supervisor::AfterPrepare(const std::string& name, uint64_t attempt, Status prepared,
                                bool in_start) {
  Service* s = Find(name);
  if (s == nullptr || !s->preparing || s->attempt != attempt) return Status::Ok();  // stale
  s->preparing = false;
  if (s->stopping) return Status::Ok();  // stopped while preparing: nothing to start
  Status st = prepared.ok() ? Spawn(name, *s) : prepared.Wrap("start " + name);
  if (st.ok() || in_start) return st;
  spdlog::error("{}", st.message());
  s->child.reset();  // the previous run's pid must not be taken for this start's group
  HandleCrash(name, *s, st.message());
  return st;
}

Status Supervisor::Spawn(const std::string& name, Service& s) {
  auto child = Child::Spawn(s.spec.spawn);
  if (!child.ok()) return child.status().Wrap("start " + name);
  s.child.emplace(std::move(*child));
  spdlog::info("{} started (pid {})", name, s.child->pid());
  if (s.events.on_start) s.events.on_start(s.child->pid());
  return Status::Ok();
}

void Supervisor::Stop(const std::string& name, int sig, std::function<void()> done) {
  Service* s = Find(name);
  if (s == nullptr) {
    if (done) done();
    return;
  }
  s->stopping = true;
  if (s->restart_timer) {
    loop_.CancelTimer(s->restart_timer);
    s->restart_timer = 0;
  }
  if (!s->child || !s->child->running()) {
    if (done) done();
    return;
  }
  if (done) s->on_stopped.push_back(std::move(done));
  int signal = sig != 0 ? sig : s->spec.stop_signal;
  s->child->Signal(signal).IgnoreError();  // ESRCH races with an exit we reap next
  // A stopped process (SIGSTOP, a debugger gone) cannot act on its stop signal, nor on the
  // ones the service sends its own helpers: continue the whole group so the shutdown runs,
  // and the direct children, which may have left it (postgres's backends call setsid()).
  s->child->SignalGroup(SIGCONT).IgnoreError();
  ContinueChildren(s->child->pid());
  if (s->stop_timer == 0) {
    s->stop_timer = loop_.AddTimer(s->spec.stop_timeout, [this, name] {
      Service* svc = Find(name);
      if (svc == nullptr || !svc->child || !svc->child->running()) return;
      svc->stop_timer = 0;
      spdlog::warn("{} did not stop in time; killing it", name);
      svc->child->SignalGroup(SIGKILL).IgnoreError();  // exit arrives through the reaper
      svc->child->Signal(SIGKILL).IgnoreError();
    });
  }
}

void Supervisor::RetryNow(const std::string& name) {
  Service* s = Find(name);
  if (s == nullptr || s->stopping || s->restart_timer == 0) return;
  loop_.CancelTimer(s->restart_timer);
  s->restart_timer = 0;
  s->faults = 0;
  Restart(name);
}

Status Supervisor::Signal(const std::string& name, int sig) {
  Service* s = Find(name);
  if (s == nullptr || !s->child || !s->child->running())
    return Status::Error("signal " + name + ": not running");
  return s->child->Signal(sig);
}

bool Supervisor::OnChildExit(pid_t pid, int wait_status) {
  for (auto& [name, s] : services_) {
    if (!s->child || s->child->pid() != pid || !s->child->running()) continue;
    s->child->MarkExited(wait_status);
    if (s->stop_timer) {
      loop_.CancelTimer(s->stop_timer);
      s->stop_timer = 0;
    }
    bool expected = s->stopping;
    if (s->events.on_exit) s->events.on_exit(wait_status, expected);
    if (expected) {
      spdlog::info("{} stopped ({})", name, DescribeWaitStatus(wait_status));
      // Helpers left in the group (a killed postmaster's backends) go with it.
      ::kill(-pid, SIGKILL);
      auto callbacks = std::move(s->on_stopped);
      s->on_stopped.clear();
      for (auto& cb : callbacks) cb();
    } else {
      std::string why = DescribeWaitStatus(wait_status);
      spdlog::error("{} exited unexpectedly ({})", name, why);
      HandleCrash(name, *s, why);
    }
    return true;
  }
  return false;
}

namespace {
Millis BackoffAt(const std::vector<Millis>& backoff, size_t n) {
  return backoff.empty() ? Millis(0) : backoff[std::min(n, backoff.size() - 1)];
}
}  // namespace

void Supervisor::HandleCrash(const std::string& name, Service& s, const std::string& why) {
  // Orphans of the dead child still hold its resources (postgres: shared memory); they go
  // whether or not a restart follows (after a give-up nobody would ever stop them).
  if (s.child) ::kill(-s.child->pid(), SIGKILL);
  std::optional<std::string> fault = s.spec.lasting_fault ? s.spec.lasting_fault() : std::nullopt;
  Millis delay(0);
  if (fault) {
    // Restarting cannot help until the environment changes, and counting these exits would
    // give the service up (and take pgrt down) while the cause is outside it.
    delay = BackoffAt(s.spec.fault_backoff, static_cast<size_t>(s.faults));
    s.faults++;
    spdlog::warn("{} cannot run: {} (last: {}); not counted as a crash, next try in {} ms", name,
                 *fault, why, delay.count());
  } else {
    s.faults = 0;
    SteadyTime now = loop_.clock().Now();
    std::erase_if(s.crashes, [&](SteadyTime t) { return now - t > s.spec.restart_window; });
    s.crashes.push_back(now);
    if (static_cast<int>(s.crashes.size()) > s.spec.max_restarts) {
      std::string reason = name + " failed " + std::to_string(s.crashes.size()) + " times within " +
                           std::to_string(s.spec.restart_window.count() / 1000) +
                           " s (last: " + why + ")";
      if (s.events.on_give_up) s.events.on_give_up(reason);
      return;
    }
    delay = BackoffAt(s.spec.backoff, s.crashes.size() - 1);
  }
  auto restart_later = [this, name, delay] {
    Service* svc = Find(name);
    if (svc == nullptr || svc->stopping) return;
    svc->restart_timer = loop_.AddTimer(delay, [this, name] { Restart(name); });
  };
  if (!s.child) {
    restart_later();
    return;
  }
  pid_t pgid = s.child->pid();
  WaitGroupGone(pgid, 2500, std::move(restart_later));
}

void Supervisor::Restart(const std::string& name) {
  Service* s = Find(name);
  if (s == nullptr || s->stopping) return;
  s->restart_timer = 0;
  s->restarts++;
  spdlog::info("restarting {} (restart {})", name, s->restarts);
  Status st = Launch(name);
  if (st.ok()) return;
  spdlog::error("{}", st.message());
  s->child.reset();
  HandleCrash(name, *s, st.message());
}

void Supervisor::WaitGroupGone(pid_t pgid, int attempts_left, std::function<void()> then) {
  // Zombies count as members until reaped; the reaper runs between our checks.
  bool gone = ::kill(-pgid, 0) != 0 && errno == ESRCH;
  if (gone || attempts_left <= 0) {
    then();
    return;
  }
  loop_.AddTimer(Millis(2), [this, pgid, attempts_left, then = std::move(then)]() mutable {
    WaitGroupGone(pgid, attempts_left - 1, std::move(then));
  });
}

std::optional<pid_t> Supervisor::pid(const std::string& name) const {
  const Service* s = Find(name);
  if (s == nullptr || !s->child || !s->child->running()) return std::nullopt;
  return s->child->pid();
}

int Supervisor::restarts(const std::string& name) const {
  const Service* s = Find(name);
  return s ? s->restarts : 0;
}

int Supervisor::fault_restarts(const std::string& name) const {
  const Service* s = Find(name);
  return s ? s->faults : 0;
}

}  // namespace pgrt
