// Replay of a restored cluster in the scratch directory: postgres started with a private
// socket (trust through an hba_file in the private directory, so the restored cluster's own
// pg_hba.conf and passwords do not matter), hot_standby off (so postmaster.pid says
// "ready" only once recovery is over and the node promoted), restore_command and
// archive_command pointing pgBackRest at the scratch. Then, on the promoted server:
// POSTGRES_USER must be a superuser of the restored cluster and gets POSTGRES_PASSWORD, and
// the recovery settings pgBackRest wrote into postgresql.auto.conf are reset (a target left
// there would stop a later standby of this node at that target). Fast shutdown, exit 0.
#pragma once

#include <string>

#include "pgdata/context.h"
#include "process/awaitables.h"

namespace pgrt {

// `private_dir`: 0700 of the run-as account (socket, hba_file, postgres's log).
Task<Status> ReplayAndPromote(const TaskContext& tc, const NodeContext& ctx,
                              const std::string& datadir, const std::string& private_dir);

}  // namespace pgrt
