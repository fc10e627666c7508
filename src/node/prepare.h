// Everything that happens before postgres starts, on every start: directories and
// ownership, first-boot initialization (or reuse of existing data, untouched), and the
// files pgrt owns (pgrt.conf, pg_hba.conf, TLS copies).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "node/controller.h"
#include "pgdata/context.h"
#include "pgdata/role_file.h"
#include "pgdata/topology.h"
#include "process/awaitables.h"
#include "state/timings.h"

namespace pgrt {

// Tells the controller which start-up step begins (initializing, cloning, restoring).
using StepReporter = std::function<void(Mode, std::string why)>;

// Returns how the node starts (its topology: the role file's, the configuration's, or with
// PGRT_HA `cluster`'s), already written to the role file and the files it needs.
// A task on the loop: its long steps (initdb, a clone, a restore) are loop events.
Task<Result<BootRole>> PrepareDataDirectory(const TaskContext& tc, const NodeContext& ctx,
                                            Timings& timings, const Clock& clock,
                                            const StepReporter& step,
                                            const std::optional<Topology>& cluster = std::nullopt);

// Renders pgrt.conf and pg_hba.conf for topology `t`, copies TLS files, makes
// postgresql.conf include pgrt.conf. Idempotent.
Status WriteManagedFiles(const NodeContext& ctx, const Topology& t);

// Everything a running node's files need for topology `t` (a promotion, a new upstream,
// after pg_rewind copied another node's files): the replica files or their removal, the
// backup files, and WriteManagedFiles. Idempotent.
Status WriteTopologyFiles(const NodeContext& ctx, const Topology& t);

}  // namespace pgrt
