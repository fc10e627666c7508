// What PgBouncer's auth_query needs in postgres, set up on a primary or standalone node at
// every start once postgres accepts connections (replicas get it through replication):
// the role kPoolerAuthRole (LOGIN, no password: it can only log in by peer over the Unix
// socket, see pg_hba.conf) and, in every database that accepts connections (template1
// included, so new databases inherit it), a SECURITY DEFINER function that returns a
// role's stored secret and nothing else.
#pragma once

#include "pg/connection.h"

namespace pgrt {

// `conn` is pgrt's superuser connection; `base` its parameters, for connecting to the other
// databases. Runs with synchronous_commit=local (no synchronous standby may exist yet).
// Idempotent; writes nothing when everything is already in place.
Status SetUpPoolerAuth(PgConn& conn, const ConnParams& base);

// Whether the lookup function exists in `conn`'s database (a replica checks that its
// primary did the set-up).
Result<bool> PoolerAuthInstalled(PgConn& conn);

}  // namespace pgrt
