// VolumeUsage: what statvfs says about one file system the node writes to. A plain value,
// so the node's last look can be kept in NodeState and rendered by any view.
#pragma once

#include <cstdint>
#include <string>

namespace pgrt {

struct VolumeUsage {
  std::string name;  // "data", "wal", "backup"
  std::string path;
  bool known = false;  // statvfs answered; the numbers below are meaningful only then
  bool read_only = false;
  uint64_t size_bytes = 0;
  uint64_t avail_bytes = 0;  // for unprivileged writers (postgres), not root's reserve
  uint64_t files = 0;        // inodes; 0 on file systems without a fixed number
  uint64_t files_free = 0;
};

}  // namespace pgrt
