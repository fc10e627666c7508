#include "pgdata/memory.h"

#include <algorithm>
#include <sstream>

#include "util/fs.h"

namespace pgrt {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

uint64_t ParseLimit(const std::string& text) {
  std::string t = text.substr(0, text.find_first_of("\r\n"));
  if (t.empty() || t == "max") return 0;
  try {
    uint64_t v = std::stoull(t);
    // cgroup v1 reports "no limit" as a huge page-aligned number.
    return v >= (uint64_t{1} << 60) ? 0 : v;
  } catch (...) {
    return 0;
  }
}

uint64_t MemTotal(const std::string& root) {
  auto meminfo = ReadFile(JoinPath(root, "proc/meminfo"));
  if (!meminfo.ok()) return 0;
  std::istringstream in(*meminfo);
  std::string key;
  uint64_t kb = 0;
  while (in >> key >> kb) {
    if (key == "MemTotal:") return kb * 1024;
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

uint64_t MemoryLimitBytes(const std::string& root) {
  uint64_t host = MemTotal(root);
  uint64_t limit = CgroupMemoryLimitBytes(root);
  if (limit > 0) return host > 0 ? std::min(limit, host) : limit;
  return host;
}

uint64_t CgroupMemoryLimitBytes(const std::string& root) {
  for (const char* f : {"sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    auto text = ReadFile(JoinPath(root, f));
    if (!text.ok()) continue;
    uint64_t v = ParseLimit(*text);
    if (v > 0) return v;
  }
  return 0;
}

uint64_t SleepingNodeMemoryBytes(const std::string& root) {
  uint64_t limit = CgroupMemoryLimitBytes(root);
  if (limit == 0) return kSharedTierNodeBytes;
  uint64_t host = MemTotal(root);
  return host > 0 ? std::min(limit, host) : limit;
}

std::string FormatPgSize(uint64_t bytes) {
  if (bytes >= kMiB) return std::to_string(bytes / kMiB) + "MB";
  return std::to_string(std::max<uint64_t>(bytes / 1024, 64)) + "kB";
}

MemorySettings SizeMemory(uint64_t limit, int max_connections) {
  if (limit == 0) limit = 1024 * kMiB;  // unknown: size for a modest 1 GiB node
  uint64_t shared = std::max<uint64_t>(limit / 4, 16 * kMiB);
  uint64_t cache = std::max<uint64_t>(limit * 3 / 4, shared);
  uint64_t maint = std::clamp<uint64_t>(limit / 16, 16 * kMiB, 1024 * kMiB);
  uint64_t conns = static_cast<uint64_t>(std::max(max_connections, 1));
  uint64_t work = std::max<uint64_t>((limit - std::min(limit, shared)) / (4 * conns), 4 * kMiB);
  return {FormatPgSize(shared), FormatPgSize(cache), FormatPgSize(maint), FormatPgSize(work)};
}

}  // namespace pgrt
