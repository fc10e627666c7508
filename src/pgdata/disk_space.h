// Whether the file systems postgres writes to let it run: a full or read-only disk is a
// lasting fault of the environment, not a crash of postgres. Restarting cannot help until
// space returns, so the node reports it and keeps trying instead of giving up.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "pgdata/volume.h"

namespace pgrt {

// postgres's largest single allocation is a WAL segment (16 MB unless initdb was told
// otherwise): with less free than that, the next segment cannot be created and postgres
// stops (PANIC), and a crash recovery cannot finish.
constexpr uint64_t kMinFreeBytes = 16ull << 20;

// The node's volumes: "data" (PGDATA), "wal" (PGDATA/pg_wal, or POSTGRES_INITDB_WALDIR),
// "backup" (PGBACKREST_REPO1_PATH of a local repository, when set). Name and path only.
std::vector<VolumeUsage> NodeVolumes(const Config& config);

// statvfs of `v.path`; `known` stays false when it fails (the path does not exist yet).
VolumeUsage StatVolume(VolumeUsage v);
std::vector<VolumeUsage> StatVolumes(const std::vector<VolumeUsage>& volumes);

// The fault that keeps postgres from running on these volumes ("data" and "wal" only: a full
// backup repository stops archiving, not postgres), as a sentence for status and logs:
// "disk full: ...", "read-only file system: ...". nullopt: none.
std::optional<std::string> DiskFault(const std::vector<VolumeUsage>& volumes,
                                     uint64_t min_free = kMinFreeBytes);

}  // namespace pgrt
