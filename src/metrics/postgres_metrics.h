// What /metrics reads from postgres: one round trip of five statements (server, activity,
// databases, standbys, slots), plus one for pg_stat_statements when it is loaded. Works
// on a primary and on a replica alike (WAL positions are chosen by pg_is_in_recovery()).
#pragma once

#include "metrics/exposition.h"
#include "pg/connection.h"
#include "util/clock.h"

namespace pgrt {

// Adds the postgres families to `page`; pg_up is the caller's to set. An error means the
// main batch failed (pg_stat_statements failing only leaves its families out).
Status CollectPostgresMetrics(PgConn& conn, Millis timeout, MetricsPage& page);

}  // namespace pgrt
