// The files pgrt owns in PGDATA, written: pgrt.conf (and the line in postgresql.conf that
// includes it), pg_hba.conf, pg_ident.conf and the TLS copies. Rendering is in settings.h;
// this writes them, as the run-as account's, only where they changed.
#pragma once

#include <string>

#include "pgdata/context.h"

namespace pgrt {

// What the files carry besides the Config, decided by the subsystems above this layer.
struct OwnedFileInputs {
  // Archiving through pgBackRest (backup/pgbackrest.h SetArchiveCommands); empty: none.
  std::string archive_command;
  std::string restore_command;
  // A replica's upstream (replication/conninfo.h); empty: not a replica.
  std::string primary_conninfo;
  std::string primary_slot_name;
};

// Idempotent: a file already holding its content is left alone.
Status WriteOwnedFiles(const NodeContext& ctx, const OwnedFileInputs& inputs);

}  // namespace pgrt
