#include "state/node_state.h"

namespace pgrt {

const char* ToString(NodePhase p) {
  switch (p) {
    case NodePhase::kInitializing:
      return "initializing";
    case NodePhase::kCloning:
      return "cloning";
    case NodePhase::kRestoring:
      return "restoring";
    case NodePhase::kStarting:
      return "starting";
    case NodePhase::kReady:
      return "ready";
    case NodePhase::kRestarting:
      return "restarting";
    case NodePhase::kHibernating:
      return "hibernating";
    case NodePhase::kHibernated:
      return "hibernated";
    case NodePhase::kWaking:
      return "waking";
    case NodePhase::kPromoting:
      return "promoting";
    case NodePhase::kRepointing:
      return "repointing";
    case NodePhase::kDemoting:
      return "demoting";
    case NodePhase::kRewinding:
      return "rewinding";
    case NodePhase::kRecloning:
      return "recloning";
    case NodePhase::kCannotRejoin:
      return "cannot_rejoin";
    case NodePhase::kStopping:
      return "stopping";
    case NodePhase::kFailed:
      return "failed";
  }
  return "unknown";
}

const char* ToString(PgRole r) {
  switch (r) {
    case PgRole::kPrimary:
      return "primary";
    case PgRole::kReplica:
      return "replica";
    case PgRole::kUnknown:
      break;
  }
  return "unknown";
}

std::string NodeState::NotReadyText() const {
  // Postgres cannot start on a full disk: that is an outage, not a start-up.
  if (std::string fault = disk_fault(); !fault.empty()) return "Database unavailable: " + fault;
  switch (phase()) {
    case NodePhase::kHibernating:
    case NodePhase::kHibernated:
      return "PostgreSQL is hibernated";
    case NodePhase::kStopping:
      return "PostgreSQL is stopping";
    case NodePhase::kDemoting:
    case NodePhase::kRewinding:
    case NodePhase::kRecloning:
      return "PostgreSQL is rejoining as a replica of a new primary";
    case NodePhase::kCannotRejoin:
      return "PostgreSQL is stopped: it cannot rejoin the new primary (see /__opr/status)";
    default:
      return "PostgreSQL is starting";
  }
}

std::string NodeState::UnavailableText() const {
  std::string fault = disk_fault();
  return fault.empty() ? "Database unavailable" : "Database unavailable: " + fault;
}

}  // namespace pgrt
