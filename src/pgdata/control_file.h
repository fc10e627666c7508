// What pgrt reads of global/pg_control, the way pg_controldata and `pg_ctl promote -w` do:
// the file's first fields (system identifier, versions, cluster state) keep their places
// across PostgreSQL versions so that tools can read any cluster's.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace pgrt {

// PostgreSQL's DBState, in its order.
enum class ClusterState : uint32_t {
  kStartingUp = 0,
  kShutDown = 1,
  kShutDownInRecovery = 2,
  kShuttingDown = 3,
  kInCrashRecovery = 4,
  kInArchiveRecovery = 5,
  kInProduction = 6,
};

struct ControlFacts {
  uint64_t system_identifier = 0;
  ClusterState state = ClusterState::kStartingUp;
};

Result<ControlFacts> ReadControlFile(const std::string& pgdata);

}  // namespace pgrt
