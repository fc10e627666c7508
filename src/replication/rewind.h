// pg_rewind: turns the data of a stopped former primary into a copy of a new primary's
// history, so it can follow it without a new clone. It needs wal_log_hints (pgrt.conf sets
// it on every node) or data checksums, and the source's superuser: the password reaches
// libpq as pg_rewind's stdin, an unnamed file (PGPASSFILE=/dev/stdin), never its command
// line or environment.
#pragma once

#include <string>

#include "pgdata/context.h"
#include "pgdata/topology.h"
#include "process/child.h"
#include "util/unique_fd.h"

namespace pgrt {

struct RewindCommand {
  SpawnSpec spec;
  UniqueFd password;  // spec.stdin_fd; keep it open until the child is spawned
};

// pg_rewind --target-pgdata=PGDATA --source-server=<up's superuser connection>.
// `private_dir` is a directory of the run-as account (for the unnamed password file).
Result<RewindCommand> RewindCommandFor(const NodeContext& ctx, const Upstream& up,
                                       const std::string& private_dir);

// The files that make PGDATA a replica of `up`: standby.signal and the replication passfile.
Status WriteReplicaFiles(const NodeContext& ctx, const Upstream& up);

}  // namespace pgrt
