#include <spdlog/spdlog.h>

#include "backup/manager_internal.h"
#include "backup/pgbackrest.h"
#include "backup/schedule_policy.h"

namespace pgrt {
namespace {

constexpr Millis kStopGrace{10000};  // pgBackRest and pg_dump stop in well under this

}  // namespace

const char* ToString(JobKind k) { return k == JobKind::kBackup ? "backup" : "dump"; }

BackupManager::BackupManager(const NodeContext& ctx, const NodeState& state, EventLoop& loop)
    : ctx_(ctx),
      state_(state),
      loop_(loop),
      backup_(std::make_unique<Slot>()),
      dump_(std::make_unique<Slot>()) {
  Publish();
}

BackupManager::~BackupManager() {
  for (auto& s : schedules_)
    if (s->timer) loop_.CancelTimer(s->timer);
  StopWatchingProgress();
}

BackupManager::Slot& BackupManager::SlotOf(JobKind kind) {
  return kind == JobKind::kBackup ? *backup_ : *dump_;
}

void BackupManager::Start() {
  const Config& c = ctx_.config;
  started_ = true;
  auto add = [&](JobKind kind, const std::string& expr) {
    auto cron = CronSchedule::Parse(expr);
    if (!cron.ok()) {  // validated with the config already; kept as a guard
      spdlog::error("{} schedule \"{}\": {}", ToString(kind), expr, cron.status().message());
      return;
    }
    auto s =
        std::make_unique<Schedule>(Schedule{kind, FireTracker(*cron, loop_.clock().WallNow()), 0});
    if (!s->tracker.next()) {
      spdlog::warn("{} schedule \"{}\" never fires", ToString(kind), expr);
      return;
    }
    spdlog::info("{} schedule \"{}\" (UTC): next at {}", ToString(kind), expr,
                 FormatUtc(*s->tracker.next()));
    Arm(*s);
    schedules_.push_back(std::move(s));
  };
  if (PgBackRestEnabled(c) && !c.backup_schedule.empty()) add(JobKind::kBackup, c.backup_schedule);
  if (!c.dump_dir.empty() && !c.dump_schedule.empty()) add(JobKind::kDump, c.dump_schedule);
  Publish();
}

void BackupManager::Arm(Schedule& s) {
  Millis delay = s.tracker.Delay(loop_.clock().WallNow());
  s.timer = loop_.AddTimer(delay, [this, &s] {
    s.timer = 0;
    OnScheduleTimer(s);
  });
}

void BackupManager::OnScheduleTimer(Schedule& s) {
  if (stopping_) return;
  auto due = s.tracker.Poll(loop_.clock().WallNow());
  if (due) {
    const char* what = ToString(s.kind);
    const std::string at = FormatUtc(due->at);
    if (due->missed > 0)
      spdlog::warn(
          "{} scheduled {} run(s) before {} missed: pgrt was late (suspended, busy or "
          "the clock jumped)",
          due->missed, what, at);
    const Slot& slot = SlotOf(s.kind);
    switch (DecideScheduledRun(state_.ready(), IsReplica(), ctx_.config.backup_on_replica,
                               slot.running.has_value())) {
      case ScheduledDecision::kSkipReplica:
        spdlog::info(
            "scheduled {} of {} skipped: this node is a replica "
            "(PGRT_BACKUP_ON_REPLICA=true runs it here)",
            what, at);
        break;
      case ScheduledDecision::kMissNotReady:
        spdlog::warn("scheduled {} of {} missed: PostgreSQL is not ready", what, at);
        break;
      case ScheduledDecision::kMissBusy:
        spdlog::warn("scheduled {} of {} missed: {} {} is still running", what, at, what,
                     slot.running->id);
        break;
      case ScheduledDecision::kRun: {
        JobRequest r = StartJob(s.kind, "", "schedule");
        if (!r.ok()) spdlog::warn("scheduled {} of {} missed: {}", what, at, r.message);
        break;
      }
    }
  }
  Arm(s);
  Publish();
}

bool BackupManager::IsReplica() const {
  switch (state_.observation().role) {
    case PgRole::kReplica:
      return true;
    case PgRole::kPrimary:
      return false;
    case PgRole::kUnknown:
      break;
  }
  return state_.topology().replica();
}

void BackupManager::OnPostgresReady() {
  if (!started_ || stopping_ || stanza_checked_ || !PgBackRestEnabled(ctx_.config)) return;
  stanza_checked_ = true;
  LaunchStanzaCheck();
}

bool BackupManager::OnChildExit(pid_t pid, int wait_status) {
  for (ChildJob* job : {backup_->job.get(), dump_->job.get(), info_job_.get()})
    if (job && job->OnChildExit(pid, wait_status)) return true;
  return false;
}

JobRequest BackupManager::Request(JobKind kind, const std::string& type) {
  return StartJob(kind, type, "api");
}

void BackupManager::Info(std::function<void(Result<std::string>)> done) {
  if (!PgBackRestEnabled(ctx_.config))
    return done(Status::Error("backups are off: set PGRT_BACKUP=pgbackrest"));
  if (stopping_) return done(Status::Error("pgrt is shutting down"));
  info_waiters_.push_back(std::move(done));
  if (!info_job_ || !info_job_->running()) StartInfo();
}

void BackupManager::Stop(bool immediate, std::function<void()> done) {
  stopping_ = true;
  on_stopped_ = std::move(done);
  for (auto& s : schedules_) {
    if (s->timer) loop_.CancelTimer(s->timer);
    s->timer = 0;
  }
  if (pending_backup_) {  // queued behind the stanza check: it never starts
    JobRecord r = *pending_backup_;
    r.error = "not started: pgrt is shutting down";
    r.finished = loop_.clock().WallNow();
    backup_->last = r;
    backup_->running.reset();
    pending_backup_.reset();
    Publish();
  }
  const Millis grace = immediate ? Millis(0) : kStopGrace;
  for (ChildJob* job : {backup_->job.get(), dump_->job.get(), info_job_.get()}) {
    if (job && job->running()) {
      spdlog::info("stopping the running {} (pgrt is shutting down)", job->name());
      job->Stop(grace, "stopped: pgrt is shutting down");
    }
  }
  MaybeFinishStop();
}

void BackupManager::MaybeFinishStop() {
  if (!stopping_ || backup_->busy() || dump_->busy() || (info_job_ && info_job_->running())) return;
  auto waiters = std::move(info_waiters_);
  info_waiters_.clear();
  for (auto& w : waiters) w(Status::Error("pgrt is shutting down"));
  auto done = std::move(on_stopped_);
  on_stopped_ = nullptr;
  if (done) done();
}

BackupSnapshot BackupManager::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

void BackupManager::Publish() {
  BackupSnapshot s;
  s.backups_enabled = PgBackRestEnabled(ctx_.config);
  s.dumps_enabled = !ctx_.config.dump_dir.empty();
  s.backup_running = backup_->running;
  s.backup_last = backup_->last;
  s.dump_running = dump_->running;
  s.dump_last = dump_->last;
  s.stanza_ready = stanza_ready_;
  s.stanza_error = stanza_error_;
  s.backup_progress = backup_progress_;
  s.backup_progress_at = backup_progress_at_;
  for (const auto& sch : schedules_)
    (sch->kind == JobKind::kBackup ? s.next_backup : s.next_dump) = sch->tracker.next();
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_ = std::move(s);
}

}  // namespace pgrt
