#include "metrics/disk_metrics.h"

namespace pgrt {

void AddDiskMetrics(const std::vector<VolumeUsage>& volumes, MetricsPage& page) {
  for (const VolumeUsage& v : volumes) {
    if (!v.known) continue;
    std::vector<std::string> labels = {v.name, v.path};
    page.Add("pgrt_filesystem_avail_bytes", labels, static_cast<double>(v.avail_bytes));
    page.Add("pgrt_filesystem_size_bytes", labels, static_cast<double>(v.size_bytes));
    page.Add("pgrt_filesystem_files_free", labels, static_cast<double>(v.files_free));
    page.Add("pgrt_filesystem_files", labels, static_cast<double>(v.files));
    page.Add("pgrt_filesystem_readonly", labels, v.read_only ? 1 : 0);
  }
}

}  // namespace pgrt
