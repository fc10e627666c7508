// Dump retention: removes pgrt's own dump files (dump.h's names, and temp files a crash left)
// whose modification time is more than PGRT_DUMP_RETENTION_DAYS before now. Files of any
// other shape in the directory are never touched. Time is passed in.
#pragma once

#include <string>
#include <vector>

#include "util/clock.h"
#include "util/status.h"

namespace pgrt {

// The names removed.
Result<std::vector<std::string>> PruneDumps(const std::string& dir, SystemTime now, int days);

}  // namespace pgrt
