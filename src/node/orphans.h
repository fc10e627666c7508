// What a dead postmaster leaves behind. Its children (backends, checkpointer, ...) call
// setsid(), so killing the postmaster's process group misses them; as the subreaper, pgrt
// inherits them. Until they exit they keep the old shared memory attached, and a new
// postmaster refuses to start ("pre-existing shared memory block is still in use").
#pragma once

#include <sys/types.h>

#include <vector>

#include "util/clock.h"
#include "util/status.h"

namespace pgrt {

// Live processes whose parent is pgrt and whose title is a postmaster child's
// ("postgres: ..."): orphans of a postmaster that died, when no postmaster of ours runs.
std::vector<pid_t> OrphanedPostgresChildren();

// SIGKILLs those orphans and waits (at most `timeout`) until none is alive; zombies hold
// no shared memory, so they need not be reaped first.
Status KillOrphanedPostgresChildren(const Clock& clock, Millis timeout);

}  // namespace pgrt
