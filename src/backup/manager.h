// BackupManager: physical backups (pgBackRest) and logical dumps of a running node, owned by
// the event loop. At most one backup and one dump run at a time; each is a ChildJob whose
// exits are loop events. Schedules (PGRT_BACKUP_SCHEDULE, PGRT_DUMP_SCHEDULE) are loop
// timers driven by FireTracker; a fire time that cannot run (a job still running, postgres
// not ready, pgrt late) is logged as missed, never queued up. On a replica scheduled runs
// are skipped unless PGRT_BACKUP_ON_REPLICA=true.
//
// When postgres first becomes ready on a primary, the stanza is created (idempotent) and
// the newest backup in the repository read, so the status is right after a restart; a
// backup asked for meanwhile waits for that and then runs.
//
// Thread-safety: everything runs on the loop (the API's handlers run there too), except
// Snapshot, which any thread may call.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backup/fire_tracker.h"
#include "pgdata/context.h"
#include "process/event_loop.h"
#include "process/job.h"
#include "state/node_state.h"
#include "util/progress.h"

namespace pgrt {

enum class JobKind { kBackup, kDump };
const char* ToString(JobKind k);

// One run, as the API shows it.
struct JobRecord {
  uint64_t id = 0;      // 0: read from the repository, not run by this pgrt
  std::string type;     // backup: full|diff|incr ("" while pgBackRest picks); dump: "logical"
  std::string trigger;  // api, schedule, repository
  SystemTime started{};
  SystemTime finished{};
  bool ok = false;
  std::string error;
  std::string label;       // backup label
  int64_t size_bytes = 0;  // backup: added to the repository; dump: bytes written
  int64_t database_bytes = 0;
  std::vector<std::string> files;  // dump files
  int pruned = 0;                  // dump files removed by retention
};

struct BackupSnapshot {
  bool backups_enabled = false;
  bool dumps_enabled = false;
  std::optional<JobRecord> backup_running, backup_last, dump_running, dump_last;
  bool stanza_ready = false;
  std::string stanza_error;
  std::optional<SystemTime> next_backup, next_dump;
  // The running backup's progress, as pgBackRest last printed it, and when it was read.
  std::optional<ProgressReading> backup_progress;
  std::optional<SystemTime> backup_progress_at;
};

// The answer to a request: 202 with the run's id, else an HTTP status and why.
struct JobRequest {
  int http_status = 202;
  std::string message;
  uint64_t id = 0;
  bool ok() const { return http_status < 300; }
};

class BackupManager {
 public:
  BackupManager(const NodeContext& ctx, const NodeState& state, EventLoop& loop);
  ~BackupManager();
  BackupManager(const BackupManager&) = delete;
  BackupManager& operator=(const BackupManager&) = delete;

  void Start();  // arms the schedules; requests are refused before
  void OnPostgresReady();
  bool OnChildExit(pid_t pid, int wait_status);
  // Stops running jobs (SIGTERM to their process groups, SIGKILL after a grace period, at
  // once when `immediate`), then calls `done`. Nothing new starts afterwards.
  void Stop(bool immediate, std::function<void()> done);

  BackupSnapshot Snapshot() const;
  // `type`: full, diff, incr or "" (backups); ignored for dumps. Answers at once.
  JobRequest Request(JobKind kind, const std::string& type);
  // `pgbackrest info --output=json` of the stanza, to `done` when it has run (or failed);
  // concurrent callers share one run.
  void Info(std::function<void(Result<std::string>)> done);

 private:
  struct Slot;
  struct Schedule;

  Slot& SlotOf(JobKind kind);
  JobRequest StartJob(JobKind kind, const std::string& type, const std::string& trigger);
  Status LaunchBackup(JobRecord record, bool create_stanza);
  Status LaunchDump(JobRecord record);
  Status StartDumpJob(const std::vector<std::string>& dbs);
  void LaunchStanzaCheck();
  void OnJobDone(JobKind kind, const Status& st);
  void OnStanzaCheckDone(const Status& st);
  JobRecord FinishRecord(JobKind kind, Slot& slot, const Status& st);
  void LaunchPendingBackup();
  void StartInfo();
  void Arm(Schedule& s);
  void OnScheduleTimer(Schedule& s);
  bool IsReplica() const;
  void Publish();
  void MaybeFinishStop();
  void WatchBackupProgress();  // manager_progress.cc
  void StopWatchingProgress();

  const NodeContext& ctx_;
  const NodeState& state_;
  EventLoop& loop_;
  std::unique_ptr<Slot> backup_, dump_;
  std::vector<std::unique_ptr<Schedule>> schedules_;
  std::unique_ptr<ChildJob> info_job_;
  std::vector<std::function<void(Result<std::string>)>> info_waiters_;
  uint64_t next_id_ = 1;
  bool started_ = false;
  bool stopping_ = false;
  bool stanza_ready_ = false;
  bool stanza_checked_ = false;
  std::string stanza_error_;
  std::optional<JobRecord> pending_backup_;  // waits for the stanza check
  std::function<void()> on_stopped_;
  EventLoop::TimerId progress_timer_ = 0;
  std::optional<ProgressReading> backup_progress_;
  std::optional<SystemTime> backup_progress_at_;
  double backup_progress_logged_ = -100;

  mutable std::mutex mu_;
  BackupSnapshot snapshot_;  // what other threads read
};

}  // namespace pgrt
