// What /metrics reads from PgBouncer: SHOW POOLS on its admin console.
#pragma once

#include "metrics/exposition.h"
#include "pg/connection.h"
#include "util/clock.h"

namespace pgrt {

// Adds the pool families to `page`; pgbouncer_up is the caller's to set.
Status CollectPgbouncerMetrics(PgConn& console, Millis timeout, MetricsPage& page);

}  // namespace pgrt
