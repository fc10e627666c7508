#include "process/resident_memory.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "util/unique_fd.h"

namespace pgrt {
namespace {

struct Mapping {
  uintptr_t start = 0, end = 0;
  std::string perms, path;
};

std::vector<Mapping> FileMappings() {
  std::vector<Mapping> out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // "start-end perms offset dev inode path"
    std::istringstream in(line);
    std::string range, offset, dev, inode;
    Mapping m;
    in >> range >> m.perms >> offset >> dev >> inode >> m.path;
    const size_t dash = range.find('-');
    // Backed by a file ("[vdso]", "[heap]" and anonymous memory are not).
    if (dash == std::string::npos || m.path.empty() || m.path[0] != '/') continue;
    m.start = std::stoull(range.substr(0, dash), nullptr, 16);
    m.end = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (m.end > m.start) out.push_back(std::move(m));
  }
  return out;
}

size_t Advise(uintptr_t start, uintptr_t end) {
  return ::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED) == 0 ? end - start
                                                                                    : 0;
}

// A read-only private mapping may hold pages the loader wrote before making it read-only
// (relocations): those are private copies, and dropping one would lose it. Only the pages
// /proc/self/pagemap shows as present file pages (bits 63 and 61) are dropped.
size_t AdviseFilePages(int pagemap, const Mapping& m, uintptr_t page) {
  const size_t pages = (m.end - m.start) / page;
  std::vector<uint64_t> entries(pages);
  const off_t at = static_cast<off_t>(m.start / page * sizeof(uint64_t));
  if (::pread(pagemap, entries.data(), pages * sizeof(uint64_t), at) !=
      static_cast<ssize_t>(pages * sizeof(uint64_t)))
    return 0;
  constexpr uint64_t kPresent = uint64_t{1} << 63, kFilePage = uint64_t{1} << 61;
  size_t advised = 0;
  size_t run = 0;  // first page of the current run of droppable pages
  for (size_t i = 0; i <= pages; ++i) {
    const bool droppable =
        i < pages && (entries[i] & (kPresent | kFilePage)) == (kPresent | kFilePage);
    if (droppable) continue;
    if (i > run) advised += Advise(m.start + run * page, m.start + i * page);
    run = i + 1;
  }
  return advised;
}

}  // namespace

Result<size_t> ReleaseIdleMemory() {
  const std::vector<Mapping> mappings = FileMappings();
  if (mappings.empty()) return Status::Error("resident memory: cannot read /proc/self/maps");
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  UniqueFd pagemap(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  size_t advised = 0;
  for (const Mapping& m : mappings) {
    if (m.perms == "r-xp")
      // Code: never written (x86-64 code is position-independent), dropped whole.
      advised += Advise(m.start, m.end);
    else if (m.perms == "r--p" && pagemap.get() >= 0)
      advised += AdviseFilePages(pagemap.get(), m, page);
  }
  ::malloc_trim(0);
  return advised;
}

}  // namespace pgrt
