// Memory sizing: the limit read from a fake root tree (cgroup v2, v1, /proc/meminfo), the
// proportions and floors of SizeMemory, and FormatPgSize.
#include "pgdata/memory.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "scratch_dir.h"

namespace pgrt {
namespace {

using test::ScratchDir;
using test::WriteText;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

constexpr const char* kV2 = "sys/fs/cgroup/memory.max";
constexpr const char* kV1 = "sys/fs/cgroup/memory/memory.limit_in_bytes";
constexpr const char* kMeminfo = "proc/meminfo";

// A /proc/meminfo of a host with `total_kb` of memory, MemTotal not necessarily first.
std::string Meminfo(uint64_t total_kb) {
  return "MemFree:         1234 kB\n"
         "HugePages_Total:       0\n"
         "MemTotal:       " +
         std::to_string(total_kb) +
         " kB\n"
         "MemAvailable:    5678 kB\n";
}

TEST(MemoryLimitBytes, PrefersTheCgroupLimitCappedByTheHost) {
  const std::string kHost8G = Meminfo(8 * kGiB / 1024);
  struct Case {
    std::string name;
    std::map<std::string, std::string> files;  // relative to the fake root
    uint64_t expected;
  };
  const Case kCases[] = {
      {"v2 limit", {{kV2, "536870912\n"}, {kMeminfo, kHost8G}}, 512 * kMiB},
      {"v2 unlimited: the host", {{kV2, "max\n"}, {kMeminfo, kHost8G}}, 8 * kGiB},
      {"v2 unlimited, v1 limit",
       {{kV2, "max\n"}, {kV1, "1073741824\n"}, {kMeminfo, kHost8G}},
       1 * kGiB},
      {"v2 before v1",
       {{kV2, "268435456\n"}, {kV1, "1073741824\n"}, {kMeminfo, kHost8G}},
       256 * kMiB},
      {"v1 limit", {{kV1, "2147483648\n"}, {kMeminfo, kHost8G}}, 2 * kGiB},
      {"v1 unlimited (huge page-aligned number)",
       {{kV1, "9223372036854771712\n"}, {kMeminfo, kHost8G}},
       8 * kGiB},
      {"limit above the host: the host", {{kV2, "17179869184\n"}, {kMeminfo, kHost8G}}, 8 * kGiB},
      {"garbage in memory.max: the host", {{kV2, "lots\n"}, {kMeminfo, kHost8G}}, 8 * kGiB},
      {"empty memory.max: the host", {{kV2, ""}, {kMeminfo, kHost8G}}, 8 * kGiB},
      {"no cgroup files: the host", {{kMeminfo, kHost8G}}, 8 * kGiB},
      {"limit without meminfo", {{kV2, "536870912"}}, 512 * kMiB},
      {"meminfo without MemTotal", {{kMeminfo, "MemFree: 1 kB\n"}}, 0},
      {"nothing at all", {}, 0},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    ScratchDir root;
    for (const auto& [path, content] : c.files) WriteText(root / path, content);
    EXPECT_EQ(MemoryLimitBytes(root.path()), c.expected);
  }
}

TEST(SleepingNodeMemoryBytes, TheCgroupLimitElseASharedTierNodeNeverTheWholeHost) {
  const std::string kHost8G = Meminfo(8 * kGiB / 1024);
  ScratchDir unlimited;
  WriteText(unlimited / kV2, "max\n");
  WriteText(unlimited / kMeminfo, kHost8G);
  EXPECT_EQ(SleepingNodeMemoryBytes(unlimited.path()), 512 * kMiB);
  EXPECT_EQ(SizeMemory(SleepingNodeMemoryBytes(unlimited.path()), 100).shared_buffers, "128MB");
  ScratchDir limited;
  WriteText(limited / kV2, "2147483648\n");
  WriteText(limited / kMeminfo, kHost8G);
  EXPECT_EQ(SleepingNodeMemoryBytes(limited.path()), 2 * kGiB);
}

TEST(MemoryLimitBytes, AcceptsARootWithATrailingSlash) {
  ScratchDir root;
  WriteText(root / kV2, "536870912\n");
  EXPECT_EQ(MemoryLimitBytes(root.path() + "/"), 512 * kMiB);
}

TEST(SizeMemory, SplitsTheLimitInProportionsWithFloors) {
  struct Case {
    std::string name;
    uint64_t limit;
    int connections;
    MemorySettings expected;
  };
  const Case kCases[] = {
      // 25 % / 75 % / 1/16 / (limit - shared) / (4 * connections)
      {"4 GiB", 4 * kGiB, 100, {"1024MB", "3072MB", "256MB", "7MB"}},
      {"64 GiB: maintenance capped at 1 GB",
       64 * kGiB,
       100,
       {"16384MB", "49152MB", "1024MB", "122MB"}},
      {"unknown limit: sized for 1 GiB", 0, 100, {"256MB", "768MB", "64MB", "4MB"}},
      {"32 MiB: every floor", 32 * kMiB, 10, {"16MB", "24MB", "16MB", "4MB"}},
      {"few connections get more work_mem", 1 * kGiB, 4, {"256MB", "768MB", "64MB", "48MB"}},
      {"zero connections counts as one", 1 * kGiB, 0, {"256MB", "768MB", "64MB", "192MB"}},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    MemorySettings m = SizeMemory(c.limit, c.connections);
    EXPECT_EQ(m.shared_buffers, c.expected.shared_buffers);
    EXPECT_EQ(m.effective_cache_size, c.expected.effective_cache_size);
    EXPECT_EQ(m.maintenance_work_mem, c.expected.maintenance_work_mem);
    EXPECT_EQ(m.work_mem, c.expected.work_mem);
  }
}

TEST(FormatPgSize, RoundsDownToWholeMegabytesOrKilobytes) {
  struct Case {
    uint64_t bytes;
    std::string expected;
  };
  const Case kCases[] = {
      {0, "64kB"},  // PostgreSQL's smallest work_mem
      {1000, "64kB"},       {100 * 1024, "100kB"},    {kMiB - 1, "1023kB"},
      {kMiB, "1MB"},        {kMiB + kMiB / 2, "1MB"}, {1536 * kMiB, "1536MB"},
      {kGiB + 1, "1024MB"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.bytes);
    EXPECT_EQ(FormatPgSize(c.bytes), c.expected);
  }
}

}  // namespace
}  // namespace pgrt
