// Memory sizing: PostgreSQL's memory settings from the container's memory limit.
#pragma once

#include <cstdint>
#include <string>

namespace pgrt {

// The cgroup (v2, then v1) memory limit, else the host's MemTotal; 0 when unknown.
// `root` is "/" in production; tests point it at a fake tree.
uint64_t MemoryLimitBytes(const std::string& root = "/");
// The cgroup limit alone; 0 when there is none.
uint64_t CgroupMemoryLimitBytes(const std::string& root = "/");

// A node that sleeps (PGRT_IDLE_TIMEOUT) shares its host with many others, most of them
// asleep: without a cgroup limit it is sized as a 512 MiB node (shared_buffers 128MB,
// PostgreSQL's own default) instead of from the whole host, which would give each a quarter
// of the machine and slow every wake (a larger shared memory segment to set up).
inline constexpr uint64_t kSharedTierNodeBytes = uint64_t{512} * 1024 * 1024;
uint64_t SleepingNodeMemoryBytes(const std::string& root = "/");

struct MemorySettings {
  std::string shared_buffers;        // 25 % of the limit
  std::string effective_cache_size;  // 75 %
  std::string maintenance_work_mem;  // 1/16, at most 1GB
  std::string work_mem;              // what is left per connection, 4MB at least
};

MemorySettings SizeMemory(uint64_t limit_bytes, int max_connections);

// 1536 MiB → "1536MB"; rounded down to whole MB, at least 1MB... or kB for tiny values.
std::string FormatPgSize(uint64_t bytes);

}  // namespace pgrt
