// First boot: initdb, then on a temporary socket-only server the database, the extensions
// and the init scripts, all inside PGDATA/.pgrt-init; moved into place only when all of it
// succeeded (see data_dir.h).
#pragma once

#include "pgdata/context.h"
#include "process/awaitables.h"
#include "state/timings.h"

namespace pgrt {

Task<Status> InitializeCluster(const TaskContext& tc, const NodeContext& ctx, Timings& timings,
                               const Clock& clock);

}  // namespace pgrt
