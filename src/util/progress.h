// Progress of long work (a clone, a restore, a backup) as the tools doing it print it:
// pg_basebackup --progress ("12345/67890 kB (18%), 0/1 tablespace") and pgBackRest at
// log-level detail ("backup file /path (8KB, 12.34%) checksum …": the percentage counts
// bytes). The parsers read the last report in a piece of output.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace pgrt {

struct ProgressReading {
  std::optional<uint64_t> bytes_done;   // pg_basebackup only
  std::optional<uint64_t> bytes_total;  // pg_basebackup only: the server's estimate
  std::optional<double> percent;        // 0..100
};

// The last "done/total kB (P%)" in `text`; nullopt when there is none.
std::optional<ProgressReading> LastBaseBackupProgress(std::string_view text);
// The last "(SIZE, P%)" of a pgBackRest file line in `text`; nullopt when there is none.
std::optional<ProgressReading> LastPgBackRestProgress(std::string_view text);

}  // namespace pgrt
