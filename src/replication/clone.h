// A replica's first boot: wait for the primary, make sure its slot exists there, clone it
// with pg_basebackup (WAL streamed, password from a private passfile) into the scratch
// directory, and move the clone into place only once it is complete (see node/data_dir.h).
#pragma once

#include <cstdint>
#include <optional>

#include "pg/connection.h"
#include "pgdata/context.h"
#include "pgdata/topology.h"
#include "process/awaitables.h"
#include "state/timings.h"

namespace pgrt {

// Connection parameters for the primary as the replication user (a normal connection).
ConnParams PrimaryConn(const Config& c, const Upstream& up, const std::string& dbname = "postgres");

// Waits until the primary accepts the replication user (backoff up to 1 s between tries,
// a log line every ~10 s). A refused password is a warning and the node's status message
// (ctx.ReportProblem) while it keeps trying: the primary may still be creating the role.
// Fails only on a termination signal.
Task<Status> WaitForPrimary(const TaskContext& tc, const NodeContext& ctx, const Upstream& up);

// pg_basebackup of `up` into `target` (WAL streamed, --no-sync, progress on stdout), the
// password read from `passfile`.
SpawnSpec BaseBackupSpec(const NodeContext& ctx, const Upstream& up, const std::string& target,
                         const std::string& passfile);
// pg_basebackup of `up` into the empty scratch directory (BaseBackupSpec, its progress
// reported through ctx), the password in a passfile of a private directory removed
// afterwards. Fails on `timeout` (0: none) or cancellation (the command is stopped).
Task<Status> CloneIntoScratch(const TaskContext& tc, const NodeContext& ctx, const Upstream& up,
                              Millis timeout = Millis(0));
// After pg_basebackup filled the scratch directory: `move` false drops the primary's role
// file, syncs the copy and marks it a standby (slow: off the loop); `move` true marks it
// complete and moves it into PGDATA.
Status PlaceClone(const NodeContext& ctx, bool move);

Task<Status> CloneFromPrimary(const TaskContext& tc, const NodeContext& ctx, const Upstream& up,
                              Timings& timings, const Clock& clock);

// The cluster's system identifier from global/pg_control (its first 8 bytes).
Result<uint64_t> LocalSystemIdentifier(const std::string& pgdata);
// The primary's, or nullopt when it cannot be reached now.
std::optional<uint64_t> PrimarySystemIdentifier(const Config& c, const Upstream& up);

}  // namespace pgrt
