// A primary's duties at every start, once postgres accepts connections: the replication
// role exists with the configured password, and the configured slot exists.
#pragma once

#include "config/config.h"
#include "pg/connection.h"

namespace pgrt {

// Runs with synchronous_commit=local: a synchronous standby may not exist yet, and these
// commits must not wait for one.
Status SetUpPrimary(PgConn& conn, const Config& c);

}  // namespace pgrt
