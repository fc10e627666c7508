// How postgres itself is run: its spawn spec, its lock file, its readiness.
#pragma once

#include <string>
#include <vector>

#include "pgdata/context.h"
#include "process/child.h"

namespace pgrt {

// postgres -D DATA [extra...] as the run-as account, with the scrubbed environment.
SpawnSpec PostgresSpawnSpec(const NodeContext& ctx, const std::string& datadir,
                            const std::vector<std::string>& extra_args);

// The status word postgres keeps in line 8 of postmaster.pid: "starting", "ready",
// "standby", "stopping"; empty when the file or the line is missing, or when the file
// belongs to another postmaster than `pid` (a stale file still says "ready").
std::string PostmasterStatus(const std::string& datadir, pid_t pid);

// What `pg_ctl promote` leaves for the postmaster, without a connection: the file
// PGDATA/promote (owned by the run-as account), looked for when the postmaster gets SIGUSR1.
// A signal, not data: not flushed.
Status WritePromoteSignalFile(const NodeContext& ctx);

// Removes a lock file of postgres — PGDATA/postmaster.pid, or the socket's
// `.s.PGSQL.<port>.lock` when it names this PGDATA — when the pid it names is not a running
// postmaster of this PGDATA owned by `owner`. postgres takes any live pid there for a
// running postmaster: a pid reused after a container restart, or a dead postmaster that
// nobody reaped yet (after a kill -9 of pgrt), would otherwise block the start.
Status ClearStaleLockFile(const std::string& path, const std::string& datadir, uid_t owner);

}  // namespace pgrt
