// Reading `pgbackrest info --output=json`: the newest backup of a stanza, for the status
// the API shows. Pure (unit-tested on pgBackRest's own output shape).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "util/status.h"

namespace pgrt {

struct BackupRecord {
  std::string label;       // 20240131-030000F_20240201-030000I
  std::string type;        // full, diff, incr
  int64_t start_time = 0;  // unix seconds
  int64_t stop_time = 0;
  int64_t database_bytes = 0;    // size of the database the backup covers
  int64_t repository_bytes = 0;  // what this backup added to the repository (compressed)
};

// The newest backup of `stanza`; nullopt when the stanza has none. An error when the text
// is not pgBackRest's JSON or the stanza reports a problem other than "no backups".
Result<std::optional<BackupRecord>> LatestBackup(const std::string& info_json,
                                                 const std::string& stanza);

}  // namespace pgrt
