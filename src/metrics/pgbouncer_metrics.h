// What /metrics reads from PgBouncer: SHOW POOLS on its admin console.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "metrics/exposition.h"
#include "pg/connection.h"
#include "util/clock.h"

namespace pgrt {

// What to send to the console.
inline constexpr const char* kPgbouncerMetricsSql = "SHOW POOLS";
// Adds the pool families of SHOW POOLS's answer to `page`; pgbouncer_up is the caller's.
Status AddPgbouncerMetrics(const std::vector<PgResult>& results, MetricsPage& page);
// pgbouncer_errors_count: `counts` by message, as the pooler read them from PgBouncer's log.
void AddPgbouncerErrorMetrics(const std::map<std::string, uint64_t>& counts, MetricsPage& page);

}  // namespace pgrt
