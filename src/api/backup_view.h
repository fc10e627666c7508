// JSON of backups and dumps for /__opr/status, /__opr/backup and /__opr/dump: the
// BackupManager's snapshot plus what postgres says about WAL archiving (pg_stat_archiver),
// so a failing archive_command is visible while postgres keeps running.
#pragma once

#include <nlohmann/json.hpp>

#include "api/api.h"

namespace pgrt {

nlohmann::json BackupView(ApiContext& ctx);  // {enabled, stanza, running, last, next, archive}
nlohmann::json DumpView(ApiContext& ctx);    // {enabled, dir, running, last, next}

}  // namespace pgrt
