// The init scripts of POSTGRES_INITDB_SCRIPTS, run once at first boot against the temporary
// server, in name order, stopping at the first failure: *.sql and *.sql.gz through psql
// (ON_ERROR_STOP), *.sh executed (or run with sh when not executable). Other files are
// skipped with a log line. Scripts get PGHOST/PGPORT/PGUSER/PGDATABASE for the temporary
// server and never a password.
#pragma once

#include "pgdata/context.h"
#include "pgdata/temp_server.h"
#include "process/command.h"

namespace pgrt {

Status RunInitScripts(const NodeContext& ctx, Waiter& waiter, const TempServer& server,
                      const std::string& datadir);

}  // namespace pgrt
