// Whether a scheduled run may start when its fire time comes. A pure decision, so the rule
// "a replica never runs scheduled backups unless PGRT_BACKUP_ON_REPLICA=true" is tested
// without a cluster or a clock.
#pragma once

namespace pgrt {

enum class ScheduledDecision {
  kRun,
  kSkipReplica,   // expected: logged at info level
  kMissNotReady,  // missed: logged as a warning
  kMissBusy,
};

inline ScheduledDecision DecideScheduledRun(bool postgres_ready, bool is_replica,
                                            bool run_on_replica, bool job_running) {
  if (is_replica && !run_on_replica) return ScheduledDecision::kSkipReplica;
  if (!postgres_ready) return ScheduledDecision::kMissNotReady;
  if (job_running) return ScheduledDecision::kMissBusy;
  return ScheduledDecision::kRun;
}

}  // namespace pgrt
