// A single-user postgres backend (`postgres --single`) on a data directory that no server
// runs: set-up SQL at first boot without a temporary server to start, wait for and stop.
#pragma once

#include <string>
#include <vector>

#include "pgdata/context.h"
#include "process/awaitables.h"

namespace pgrt {

// Runs `statements` (each one line: a single-user backend ends a statement at a newline) in
// `dbname`, in order, each its own transaction. fsync is off: the caller syncs the file
// system once before the cluster counts. The first error ends the session (exit_on_error)
// and is returned with the backend's last output; NOTICEs are logged.
Task<Status> RunSingleUser(const TaskContext& tc, const NodeContext& ctx,
                           const std::string& datadir, const std::string& private_dir,
                           const std::string& dbname, const std::vector<std::string>& statements);

}  // namespace pgrt
