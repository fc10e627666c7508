// The files that make a data directory a replica or not, set from the boot topology at
// every start: standby.signal and the replication passfile. Guards against following the
// wrong primary: data cloned from another cluster, or a node promoted since, is never
// silently demoted or wiped.
#pragma once

#include "pgdata/context.h"
#include "pgdata/role_file.h"
#include "process/awaitables.h"

namespace pgrt {

enum class RoleFilesOutcome { kReady, kNeedsClone };

// Replica: checks the data belongs to the primary's cluster (when the primary answers),
// refuses a node promoted while pgrt ran (its writes may be missing on the primary; a
// runtime follow rewinds it instead), writes standby.signal and the passfile. With
// PGRT_REPLICA_RECLONE the foreign data is moved aside and kNeedsClone returned.
// Primary/standalone: removes standby.signal (data kept, node writable).
// Data without standby.signal is checked only after waiting for the primary.
Task<Result<RoleFilesOutcome>> ApplyRoleFiles(const TaskContext& tc, const NodeContext& ctx,
                                              const BootRole& boot);

// Moves PGDATA aside to PGDATA.broken-<time> (or, when PGDATA is a mount point, its entries
// into PGDATA/.pgrt-aside-<time>). Never deletes anything.
Status MoveDataAside(const NodeContext& ctx);

}  // namespace pgrt
