// Role checks for load balancers, with Patroni's status codes: 200 when this node has the
// role asked about and can serve, 503 otherwise. Answered from the monitor's last
// observation, never by querying postgres, so they stay cheap at any rate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "state/node_state.h"

namespace pgrt {

enum class RoleCheck { kPrimary, kReplica, kReadOnly };

// "16MB", "1GB", "512kB", "1048576" (bytes) → bytes; nullopt when malformed.
std::optional<int64_t> ParseLag(const std::string& text);

// The status code for a check; `max_lag` only for kReplica.
int RoleCheckStatus(RoleCheck check, bool ready, const Observation& o, const Topology& node,
                    std::optional<int64_t> max_lag);

}  // namespace pgrt
