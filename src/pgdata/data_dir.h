// What PGDATA holds, and moving a finished initialization into place.
//
// A first initialization happens in PGDATA/.pgrt-init (same file system, so it works when
// PGDATA is a mount point). Only after initdb, the database, extensions and init scripts
// all succeeded and the temporary server stopped is a marker written; then the entries are
// renamed into PGDATA, PG_VERSION last. So a cluster is in place iff PGDATA/PG_VERSION
// exists, and a crash at any point is recognised on the next start.
#pragma once

#include <string>

#include "pgdata/layout.h"
#include "util/status.h"

namespace pgrt {

enum class DataDirState {
  kEmpty,        // nothing (or lost+found, or an unfinished scratch): initialize
  kInitialized,  // PG_VERSION present: reuse untouched
  kReadyToMove,  // a finished scratch whose move was interrupted: finish it
  kForeign,      // files but no cluster: refuse, never touch
};

Result<DataDirState> InspectDataDir(const NodeLayout& layout);

inline constexpr const char* kInitCompleteMarker = "pgrt-init.complete";

// Renames every entry of the finished scratch into PGDATA (PG_VERSION last), then removes
// the marker and the empty scratch directory.
Status MoveScratchIntoPlace(const NodeLayout& layout);

}  // namespace pgrt
