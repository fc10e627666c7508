// First boot from a pgBackRest repository (PGRT_RESTORE_FROM=pgbackrest, empty PGDATA).
//
// Everything happens in the scratch directory PGDATA/.pgrt-init, as for a new cluster
// (see node/data_dir.h): `pgbackrest restore --pg1-path=<scratch>` (the latest backup, or
// PGRT_RESTORE_TARGET_TIME/_LSN/_XID with target-action promote), then a temporary
// socket-only postgres replays the archive and promotes (replay.h), and only then is the
// marker written and the cluster moved into place. A restore that fails anywhere — a
// target before the first backup, one beyond the archive, an interrupted replay — leaves
// PGDATA without a cluster: the scratch is removed and never marked complete.
#pragma once

#include "pgdata/context.h"
#include "process/awaitables.h"
#include "state/timings.h"

namespace pgrt {

Task<Status> RestoreFromPgBackRest(const TaskContext& tc, const NodeContext& ctx, Timings& timings,
                                   const Clock& clock);

}  // namespace pgrt
