// Role checks for load balancers, with Patroni's paths and status codes (Patroni 3.0.2's
// RestApiHandler.do_GET is the reference): 200 when this node has the role asked about and
// can serve, 503 otherwise. Answered from the monitor's last observation and the node's
// topology, never by querying postgres, so they stay cheap at any rate.
//
// Without a DCS there is no cluster to lead and no standby cluster: the leader is the
// writable primary (a standalone node included), /standby-leader is always 503, and "sync"
// is what the node can tell on its own (see IsSyncStandby).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "state/node_state.h"

namespace pgrt {

enum class RoleCheck {
  kPrimary,        // /, /primary, /master, /read-write, /leader
  kStandbyLeader,  // /standby-leader, /standby_leader
  kReplica,        // /replica (and pgrt's /standby)
  kReadOnly,       // /read-only
  kReadOnlySync,   // /read-only-sync, /read-only-synchronous
  kSync,           // /sync, /synchronous
  kAsync,          // /async, /asynchronous
  kHealth,         // /health
};

// What a request asks besides its path, as Patroni reads its query string.
struct RoleCheckQuery {
  // ?lag=: a replica further behind is not one (kReplica, kReadOnly and the sync checks on
  // a replica). A malformed value is no limit, as in Patroni.
  std::optional<int64_t> max_lag;
  // Any ?tag_<key>=<value>: pgrt nodes carry no Patroni tags, so such a filter matches no
  // node, and every check but the primary's and the standby leader's answers 503.
  bool filters_on_tags = false;
};

// The query string's role-check parameters (raw, without '?').
RoleCheckQuery ParseRoleCheckQuery(const std::string& raw_query);

// What the node knows about itself when a check arrives.
struct RoleFacts {
  bool ready = false;  // NodeState::ready(): postgres accepts connections, nothing stops it
  Observation seen;    // the monitor's last observation
  Topology node;       // the controller's topology: the role this node is meant to have
  bool sync = false;   // IsSyncStandby
  // With PGRT_HA: whether this node holds the leader key; a primary without it is none.
  std::optional<bool> lease_held;
};

// The status code for a check.
int RoleCheckStatus(RoleCheck check, const RoleFacts& facts, const RoleCheckQuery& query);

// Whether `synchronous_standby_names` (any of PostgreSQL's forms: "a, b", "FIRST 1 (a, b)",
// "ANY 2 (\"a\", b)", "*") names `application_name`, compared as PostgreSQL does
// (case-insensitively, after removing double quotes).
bool NamesStandby(std::string_view synchronous_standby_names, std::string_view application_name);

// A replica counts as synchronous when it streams and its application_name is named by
// POSTGRES_SYNCHRONOUS_STANDBY_NAMES, the setting every node of a pgrt cluster is given and
// whichever is the primary applies. What the primary's pg_stat_replication.sync_state says
// is not visible to a replica; with "FIRST 1 (a, b)" both a and b count.
bool IsSyncStandby(const Observation& seen, std::string_view synchronous_standby_names,
                   std::string_view application_name);

// "16MB", "1GB", "512kB", "1048576" (bytes) → bytes; nullopt when malformed.
std::optional<int64_t> ParseLag(const std::string& text);

}  // namespace pgrt
