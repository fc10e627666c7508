// /__opr/replication: the replication state as the OpenRuntimes runtime's clients read it.
#pragma once

#include <nlohmann/json.hpp>

#include "api/api.h"

namespace pgrt {

// Standalone: {mode, enabled:false}. Otherwise the primary's standbys and slots, or the
// replica's LSNs, lag, pause state and WAL receiver. nullopt: postgres unreachable.
std::optional<nlohmann::json> ReplicationView(ApiContext& ctx);

}  // namespace pgrt
