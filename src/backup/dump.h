// Logical dumps into PGRT_DUMP_DIR: `pg_dumpall --globals-only` (roles, tablespaces) and one
// `pg_dump -Fc` per database that accepts connections, templates excluded. All files of a
// run share one UTC stamp:
//   globals-20240131T030000Z.sql
//   <database>-20240131T030000Z.dump   (the name %-encoded outside [A-Za-z0-9_.-])
// Each is written to .pgrt-tmp-<name> and renamed when its tool exited cleanly, so a file
// with a final name is always complete. The tools connect over the local socket as
// POSTGRES_USER with the runtime passfile (PGPASSFILE): no password on a command line or
// in an environment.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pg/connection.h"
#include "pgdata/context.h"
#include "process/job.h"

namespace pgrt {

std::string DumpStamp(SystemTime t);  // "20240131T030000Z"
std::string DumpFileName(const std::string& database, const std::string& stamp);
std::string GlobalsFileName(const std::string& stamp);
inline constexpr const char* kDumpTempPrefix = ".pgrt-tmp-";

// host/port/user/dbname for pg_dump's --dbname, quoted as libpq wants: a database name never
// turns into connection options.
std::string LocalConninfo(const Config& c, const std::string& db);

// Names pgrt itself writes: finished dumps and globals of the shapes above, and temp files.
bool IsOwnDumpFile(const std::string& name);

// Databases that accept connections, templates excluded, by name: the query and its answer.
inline constexpr const char* kDumpableDatabasesSql =
    "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1";
std::vector<std::string> DumpableDatabases(const PgResult& r);

// What a dump run produced so far (filled by the steps as they finish).
struct DumpTally {
  std::vector<std::string> files;
  int64_t bytes = 0;
};

// The steps of one run: globals first, then each database.
std::vector<JobStep> DumpSteps(const NodeContext& ctx, const std::vector<std::string>& databases,
                               const std::string& stamp, std::shared_ptr<DumpTally> tally);

// Removes this run's temp files (after a failed or stopped run).
void RemoveDumpTemps(const std::string& dir, const std::string& stamp);

}  // namespace pgrt
