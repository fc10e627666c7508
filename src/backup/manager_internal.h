// Private parts of BackupManager shared by manager.cc (requests, schedules, stop) and
// manager_jobs.cc (what each job runs and what its end records).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "backup/dump.h"
#include "backup/info.h"
#include "backup/manager.h"

namespace pgrt {

struct BackupManager::Slot {
  std::unique_ptr<ChildJob> job;
  bool stanza_check = false;         // the job is the stanza check, not a requested run
  std::optional<JobRecord> running;  // the requested run (running, or queued behind the check)
  std::optional<JobRecord> last;
  // Filled by the job's steps as they finish.
  std::shared_ptr<std::optional<BackupRecord>> latest;
  std::shared_ptr<DumpTally> tally;
  std::string stamp;

  bool busy() const { return job && job->running(); }
};

struct BackupManager::Schedule {
  JobKind kind;
  FireTracker tracker;
  EventLoop::TimerId timer = 0;
};

}  // namespace pgrt
