// Several statements in one round trip, with a deadline on the client side too: a stopped
// or wedged server makes a scrape fail after `timeout`, never hang an API thread.
#pragma once

#include <vector>

#include "pg/connection.h"
#include "util/clock.h"

namespace pgrt {

// Sends `sql` (statements separated by ';', simple protocol) and returns one result per
// statement. On a timeout the connection is left unusable: the caller drops it.
Result<std::vector<PgResult>> RunBatch(PgConn& conn, const std::string& sql, Millis timeout);

}  // namespace pgrt
