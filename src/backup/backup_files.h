// The files backups need outside PGDATA (see pgbackrest.h): written at every start, before
// a restore or postgres itself can need them. Idempotent.
#pragma once

#include "pgdata/context.h"

namespace pgrt {

// The runtime directory, pgbackrest.conf, the passfile and the lock directory, when
// backups, a restore or dumps are configured; also creates a missing posix repository
// directory (PGBACKREST_REPO1_PATH) and PGRT_DUMP_DIR for the run-as account.
Status WriteBackupFiles(const NodeContext& ctx);

}  // namespace pgrt
