// Everything that happens before postgres starts, on every start: directories and
// ownership, first-boot initialization (or reuse of existing data, untouched), and the
// files pgrt owns (pgrt.conf, pg_hba.conf, TLS copies).
#pragma once

#include "node/context.h"
#include "node/timings.h"
#include "process/command.h"

namespace pgrt {

Status PrepareDataDirectory(const NodeContext& ctx, Waiter& waiter, Timings& timings,
                            const Clock& clock);

// Renders pgrt.conf and pg_hba.conf, copies TLS files, makes postgresql.conf include
// pgrt.conf. Idempotent.
Status WriteManagedFiles(const NodeContext& ctx);

}  // namespace pgrt
