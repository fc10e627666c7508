#include "node/state.h"

namespace pgrt {

const char* ToString(NodePhase p) {
  switch (p) {
    case NodePhase::kStarting: return "starting";
    case NodePhase::kReady: return "ready";
    case NodePhase::kRestarting: return "restarting";
    case NodePhase::kStopping: return "stopping";
    case NodePhase::kFailed: return "failed";
  }
  return "unknown";
}

const char* ToString(PgRole r) {
  switch (r) {
    case PgRole::kPrimary: return "primary";
    case PgRole::kReplica: return "replica";
    case PgRole::kUnknown: break;
  }
  return "unknown";
}

}  // namespace pgrt
