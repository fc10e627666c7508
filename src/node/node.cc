#include "node/node.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include "node/postgres_process.h"
#include "node/prepare.h"

namespace pgrt {

namespace {
constexpr const char* kService = "postgres";
constexpr Millis kReadinessPoll{2};
}  // namespace

Status Node::Prepare(Waiter& waiter) {
  return PrepareDataDirectory(ctx_, waiter, timings_, clock_);
}

Status Node::Start(EventLoop& loop, Supervisor& supervisor, std::vector<std::string> extra_args,
                   std::function<void(const std::string&)> on_fatal) {
  loop_ = &loop;
  supervisor_ = &supervisor;
  ServiceSpec spec;
  spec.spawn = PostgresSpawnSpec(ctx_, ctx_.layout.pgdata, extra_args);
  spec.stop_signal = SIGINT;  // fast shutdown: roll back clients, checkpoint, exit
  spec.stop_timeout = Millis(60000);
  spec.max_restarts = ctx_.config.restart_max;
  spec.restart_window = Millis(ctx_.config.restart_window_seconds * 1000LL);
  const std::string datadir = ctx_.layout.pgdata;
  spec.before_start = [datadir] { return ClearStaleLockFile(datadir); };

  ServiceEvents events;
  events.on_start = [this](pid_t pid) {
    state_.SetPostgresPid(pid);
    WatchReadiness(pid);
  };
  events.on_exit = [this](int, bool expected) {
    state_.SetPostgresPid(0);
    if (readiness_timer_) loop_->CancelTimer(readiness_timer_);
    readiness_timer_ = 0;
    if (!expected) {
      state_.SetPhase(NodePhase::kRestarting);
      state_.CountRestart();
    }
  };
  events.on_give_up = [this, on_fatal](const std::string& reason) {
    state_.SetPhase(NodePhase::kFailed);
    state_.SetMessage(reason);
    on_fatal(reason);
  };
  supervisor.Add(kService, std::move(spec), std::move(events));
  timings_.EndPhase("prepare", clock_.Now());
  return supervisor.Start(kService);
}

void Node::WatchReadiness(pid_t pid) {
  // postgres writes "ready" (or "standby") into postmaster.pid once it accepts
  // connections; reading the file is cheaper and sooner than a ping.
  readiness_timer_ = loop_->AddTimer(kReadinessPoll, [this, pid] {
    readiness_timer_ = 0;
    if (state_.postgres_pid() != pid) return;
    std::string st = PostmasterStatus(ctx_.layout.pgdata, pid);
    if (st == "ready" || st == "standby") {
      auto now = clock_.Now();
      timings_.MarkReady(now);
      state_.SetPhase(NodePhase::kReady);
      spdlog::info("postgres is ready (pid {})", pid);
      return;
    }
    WatchReadiness(pid);
  });
}

void Node::Shutdown(int sig, std::function<void()> done) {
  state_.SetPhase(NodePhase::kStopping);
  if (readiness_timer_) loop_->CancelTimer(readiness_timer_);
  readiness_timer_ = 0;
  if (supervisor_ == nullptr) {
    done();
    return;
  }
  supervisor_->Stop(kService, sig, std::move(done));
}

}  // namespace pgrt
