// The init scripts of POSTGRES_INITDB_SCRIPTS, run once at first boot against the temporary
// server, in name order, stopping at the first failure: *.sql and *.sql.gz through psql
// (ON_ERROR_STOP), *.sh executed (or run with sh when not executable). Other files are
// skipped with a log line. Scripts get PGHOST/PGPORT/PGUSER/PGDATABASE for the temporary
// server and never a password.
#pragma once

#include "pgdata/context.h"
#include "pgdata/temp_server.h"
#include "process/awaitables.h"

namespace pgrt {

// Whether POSTGRES_INITDB_SCRIPTS holds a script RunInitScripts would run (a temporary server
// is started for them only).
bool HasInitScripts(const NodeContext& ctx);

Task<Status> RunInitScripts(const TaskContext& tc, const NodeContext& ctx, const TempServer& server,
                            const std::string& datadir);

}  // namespace pgrt
