// The node's deadlines and pauses, shared by the files that make up Node (node.cc: start,
// stop and readiness; role_change.cc: promote, follow, re-point; rejoin.cc: pg_rewind and
// the run-time re-clone). Internal to node/.
#pragma once

#include "util/clock.h"

namespace pgrt::node_limits {

inline constexpr const char* kService = "postgres";
inline constexpr Millis kReadinessPoll{2};
inline constexpr Millis kFinishRetry{500};
// How often the volumes are looked at: soon enough to restart within a second or two of
// space returning, cheap enough (a statvfs per volume) to do forever.
inline constexpr Millis kDiskCheck{1000};
inline constexpr Millis kSetUpDeadline{30000};
// How long a promotion may take (pg_ctl promote waits as long).
inline constexpr Millis kPromoteDeadline{60000};
// Writing a few small files (and fsyncing them).
inline constexpr Millis kFilesDeadline{30000};
// pg_rewind copies what changed since the fork; a large database may take a while.
inline constexpr Millis kRewindTimeout{30 * 60 * 1000};
// A failed pg_rewind is tried again (the new primary may have been restarting, or busy with
// its checkpoint): this many tries in all, 1 s, 2 s, 4 s... apart.
inline constexpr int kRewindTries = 4;
inline constexpr Millis kRewindRetry{1000};
// A new clone at run time (PGRT_REPLICA_RECLONE): pg_basebackup, then one syncfs.
inline constexpr Millis kRecloneTimeout{6 * 60 * 60 * 1000};
// Asking a new upstream who it is before following it.
inline constexpr Millis kCheckDeadline{10000};
// Asking again when the new primary could not be asked whether this node's data forked.
inline constexpr Millis kForkCheckRetry{1000};
// How often a replica that does not stream asks its primary whether its data forked.
inline constexpr Millis kForkWatch{3000};

}  // namespace pgrt::node_limits
