// What each BackupManager job runs, and what its end records.
#include <spdlog/spdlog.h>

#include "backup/manager_internal.h"
#include "backup/pgbackrest.h"
#include "backup/retention.h"
#include "pg/async_conn.h"
#include "util/fs.h"

namespace pgrt {
namespace {

constexpr Millis kInfoTimeout{120000};

JobStep PgBackRestStep(const NodeContext& ctx, const std::string& command,
                       const std::vector<std::string>& options = {}) {
  JobStep step;
  step.spec.name = "pgbackrest " + command;
  step.spec.argv = PgBackRestArgv(ctx.config, command, options);
  step.spec.env = PgBackRestEnvironment(ctx.config, ctx.child_env);
  step.spec.run_as = ctx.run_as;
  return step;
}

// `pgbackrest info` whose result lands in `latest`. Never fails the job: the backup before
// it is what counts; a status without a size is the only loss.
JobStep LatestStep(const NodeContext& ctx, std::shared_ptr<std::optional<BackupRecord>> latest) {
  JobStep step = PgBackRestStep(ctx, "info", {"--output=json"});
  const std::string stanza = StanzaName(ctx.config);
  step.after = [latest, stanza](const std::string& out) {
    auto r = LatestBackup(out, stanza);
    if (r.ok())
      *latest = *r;
    else
      spdlog::warn("reading the repository: {}", r.status().message());
    return Status::Ok();
  };
  return step;
}

std::string Output(const BackupPaths& p, const char* name) { return JoinPath(p.runtime_dir, name); }

}  // namespace

JobRequest BackupManager::StartJob(JobKind kind, const std::string& type,
                                   const std::string& trigger) {
  const Config& c = ctx_.config;
  if (stopping_) return {503, "pgrt is shutting down", 0};
  if (!started_ || !state_.ready()) return {503, "PostgreSQL is not ready", 0};
  Slot& slot = SlotOf(kind);
  JobRecord r;
  r.trigger = trigger;
  r.started = loop_.clock().WallNow();
  if (kind == JobKind::kBackup) {
    if (!PgBackRestEnabled(c)) return {400, "backups are off: set PGRT_BACKUP=pgbackrest", 0};
    if (!type.empty() && type != "full" && type != "diff" && type != "incr")
      return {400, "type must be full, diff or incr", 0};
    r.type = type;
  } else {
    if (c.dump_dir.empty()) return {400, "dumps are off: set PGRT_DUMP_DIR", 0};
    r.type = "logical";
  }
  if (slot.running)
    return {409,
            std::string("a ") + ToString(kind) + " is already running (id " +
                std::to_string(slot.running->id) + ")",
            0};
  r.id = next_id_++;
  if (slot.busy()) {  // the stanza check: the backup follows it
    pending_backup_ = r;
    slot.running = r;
    Publish();
    return {202, "backup queued behind the stanza check", r.id};
  }
  Status st =
      kind == JobKind::kBackup ? LaunchBackup(r, !stanza_ready_ && !IsReplica()) : LaunchDump(r);
  if (!st.ok()) return {500, st.message(), 0};
  return {202, std::string(ToString(kind)) + " started", r.id};
}

Status BackupManager::LaunchBackup(JobRecord record, bool create_stanza) {
  Slot& slot = *backup_;
  slot.stanza_check = false;
  slot.latest = std::make_shared<std::optional<BackupRecord>>();
  std::vector<JobStep> steps;
  if (create_stanza) {
    steps.push_back(PgBackRestStep(ctx_, "stanza-create"));
    steps.back().after = [this](const std::string&) {
      stanza_ready_ = true;
      stanza_error_.clear();
      return Status::Ok();
    };
  }
  // At log level detail pgBackRest prints a line per file with the share of bytes copied so
  // far: the status's progress (WatchBackupProgress).
  std::vector<std::string> options = {"--log-level-console=detail"};
  if (!record.type.empty()) options.push_back("--type=" + record.type);
  steps.push_back(PgBackRestStep(ctx_, "backup", options));
  steps.push_back(LatestStep(ctx_, slot.latest));
  const BackupPaths p = BackupPaths::From(ctx_.config);
  slot.job =
      std::make_unique<ChildJob>(loop_, "backup", Output(p, "backup"), std::move(steps),
                                 [this](const Status& st) { OnJobDone(JobKind::kBackup, st); });
  PGRT_RETURN_IF_ERROR(slot.job->Start(), "backup");
  spdlog::info("backup {} started ({}, {})", record.id,
               record.type.empty() ? "pgBackRest's default type" : record.type, record.trigger);
  slot.running = record;
  WatchBackupProgress();
  Publish();
  return Status::Ok();
}

void BackupManager::LaunchStanzaCheck() {
  Slot& slot = *backup_;
  if (slot.busy()) return;  // a backup is running; it creates the stanza itself
  slot.stanza_check = true;
  slot.latest = std::make_shared<std::optional<BackupRecord>>();
  std::vector<JobStep> steps;
  if (!IsReplica()) {
    steps.push_back(PgBackRestStep(ctx_, "stanza-create"));
    steps.back().after = [this](const std::string&) {
      stanza_ready_ = true;
      spdlog::info("pgBackRest stanza {} is ready", StanzaName(ctx_.config));
      return Status::Ok();
    };
  }
  steps.push_back(LatestStep(ctx_, slot.latest));
  const BackupPaths p = BackupPaths::From(ctx_.config);
  slot.job =
      std::make_unique<ChildJob>(loop_, "stanza check", Output(p, "stanza"), std::move(steps),
                                 [this](const Status& st) { OnJobDone(JobKind::kBackup, st); });
  if (Status st = slot.job->Start(); !st.ok()) {
    stanza_error_ = st.message();
    spdlog::warn("pgBackRest stanza: {}", st.message());
  }
  Publish();
}

Status BackupManager::LaunchDump(JobRecord record) {
  Slot& slot = *dump_;
  slot.stamp = DumpStamp(record.started);
  slot.tally = std::make_shared<DumpTally>();
  slot.running = record;
  Publish();
  ConnParams params = ctx_.LocalConn(ctx_.config.db);
  params["options"] = "-c statement_timeout=10000";
  // The steps depend on the databases there are: list them first, without waiting.
  QueryOnce(
      loop_, std::move(params), kDumpableDatabasesSql, Millis(15000),
      [this, id = record.id](Result<AsyncPgConn::Results> r) {
        Slot& slot = *dump_;
        if (!slot.running || slot.running->id != id || slot.busy()) return;
        if (stopping_)
          return OnJobDone(JobKind::kDump, Status::Error("not started: pgrt is shutting down"));
        Status st =
            r.ok() ? StartDumpJob(DumpableDatabases((*r)[0])) : r.status().Wrap("list databases");
        if (!st.ok()) OnJobDone(JobKind::kDump, st.Wrap("dump"));
      });
  return Status::Ok();
}

Status BackupManager::StartDumpJob(const std::vector<std::string>& dbs) {
  Slot& slot = *dump_;
  const BackupPaths p = BackupPaths::From(ctx_.config);
  slot.job = std::make_unique<ChildJob>(
      loop_, "dump", Output(p, "dump"), DumpSteps(ctx_, dbs, slot.stamp, slot.tally),
      [this](const Status& st) { OnJobDone(JobKind::kDump, st); });
  PGRT_RETURN_IF_ERROR(slot.job->Start(), "start");
  spdlog::info("dump {} started: globals and {} database(s) into {}", slot.running->id, dbs.size(),
               ctx_.config.dump_dir);
  return Status::Ok();
}

void BackupManager::OnStanzaCheckDone(const Status& st) {
  Slot& slot = *backup_;
  slot.stanza_check = false;
  if (!st.ok()) {
    stanza_error_ = st.message();
    spdlog::warn("pgBackRest stanza: {}", st.message());
  }
  if (!*slot.latest || slot.last) return;
  // The repository's newest backup stands for the last one until this pgrt takes its own.
  const BackupRecord& b = **slot.latest;
  JobRecord r{.type = b.type,
              .trigger = "repository",
              .ok = true,
              .label = b.label,
              .size_bytes = b.repository_bytes,
              .database_bytes = b.database_bytes};
  r.started = std::chrono::system_clock::from_time_t(b.start_time);
  r.finished = std::chrono::system_clock::from_time_t(b.stop_time);
  slot.last = r;
}

JobRecord BackupManager::FinishRecord(JobKind kind, Slot& slot, const Status& st) {
  JobRecord r = *slot.running;
  r.finished = loop_.clock().WallNow();
  r.ok = st.ok();
  r.error = st.ok() ? "" : st.message();
  if (kind == JobKind::kBackup && st.ok() && *slot.latest) {
    const BackupRecord& b = **slot.latest;
    r.label = b.label;
    r.type = b.type;  // pgBackRest turns a first incr into a full
    r.size_bytes = b.repository_bytes;
    r.database_bytes = b.database_bytes;
  }
  if (kind == JobKind::kDump) {
    r.files = slot.tally->files;
    r.size_bytes = slot.tally->bytes;
    if (!st.ok()) {
      RemoveDumpTemps(ctx_.config.dump_dir, slot.stamp);
    } else if (auto pruned =
                   PruneDumps(ctx_.config.dump_dir, r.finished, ctx_.config.dump_retention_days);
               pruned.ok()) {
      r.pruned = static_cast<int>(pruned->size());
      for (const auto& name : *pruned) spdlog::info("dump retention: removed {}", name);
    } else {
      spdlog::warn("{}", pruned.status().message());
    }
  }
  return r;
}

void BackupManager::OnJobDone(JobKind kind, const Status& st) {
  Slot& slot = SlotOf(kind);
  if (kind == JobKind::kBackup) StopWatchingProgress();
  if (kind == JobKind::kBackup && slot.stanza_check) {
    OnStanzaCheckDone(st);
  } else {
    JobRecord r = FinishRecord(kind, slot, st);
    if (r.ok)
      spdlog::info("{} {} finished: {} ({} bytes)", ToString(kind), r.id,
                   kind == JobKind::kBackup ? r.label : std::to_string(r.files.size()) + " files",
                   r.size_bytes);
    else
      spdlog::error("{} {} failed: {}", ToString(kind), r.id, r.error);
    slot.last = r;
    slot.running.reset();
  }
  // Not from inside the finished job's own callback: LaunchBackup replaces that job.
  if (kind == JobKind::kBackup && pending_backup_ && !stopping_)
    loop_.AddTimer(Millis(0), [this] { LaunchPendingBackup(); });
  Publish();
  MaybeFinishStop();
}

void BackupManager::LaunchPendingBackup() {
  if (!pending_backup_ || stopping_) return;
  JobRecord r = *pending_backup_;
  pending_backup_.reset();
  if (Status st = LaunchBackup(r, !stanza_ready_ && !IsReplica()); !st.ok()) {
    r.error = st.message();
    r.finished = loop_.clock().WallNow();
    backup_->running.reset();
    backup_->last = r;
    spdlog::error("backup {} failed: {}", r.id, r.error);
    Publish();
  }
}

void BackupManager::StartInfo() {
  auto out = std::make_shared<std::string>();
  JobStep step = PgBackRestStep(ctx_, "info", {"--output=json"});
  step.after = [out](const std::string& text) {
    *out = text;
    return Status::Ok();
  };
  std::vector<JobStep> steps;
  steps.push_back(std::move(step));
  const BackupPaths p = BackupPaths::From(ctx_.config);
  info_job_ = std::make_unique<ChildJob>(loop_, "info", Output(p, "info"), std::move(steps),
                                         [this, out](const Status& st) {
                                           auto waiters = std::move(info_waiters_);
                                           info_waiters_.clear();
                                           for (auto& w : waiters) {
                                             if (st.ok())
                                               w(*out);
                                             else
                                               w(st);
                                           }
                                           MaybeFinishStop();
                                         });
  if (Status st = info_job_->Start(kInfoTimeout); !st.ok()) {
    auto waiters = std::move(info_waiters_);
    info_waiters_.clear();
    for (auto& w : waiters) w(st);
  }
}

}  // namespace pgrt
