// Free space of the node's volumes (PGDATA, the WAL directory, a local backup repository),
// from the node's last look at them (NodeState::volumes(), refreshed every second on the
// loop): a scrape never calls statvfs itself, and shows what the node decides on.
#pragma once

#include <vector>

#include "metrics/exposition.h"
#include "pgdata/volume.h"

namespace pgrt {

// pgrt_filesystem_{avail_bytes,size_bytes,files_free,files,readonly}{volume,path}; nothing
// for a volume statvfs could not read.
void AddDiskMetrics(const std::vector<VolumeUsage>& volumes, MetricsPage& page);

}  // namespace pgrt
