#include "backup/retention.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "backup/dump.h"
#include "util/fs.h"

namespace pgrt {

Result<std::vector<std::string>> PruneDumps(const std::string& dir, SystemTime now, int days) {
  auto entries = ListDirectory(dir);
  if (!entries.ok()) return entries.status().Wrap("dump retention");
  const SystemTime cutoff = now - std::chrono::hours(24) * days;
  std::vector<std::string> removed;
  for (const std::string& name : *entries) {
    if (!IsOwnDumpFile(name)) continue;
    const std::string path = JoinPath(dir, name);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const SystemTime mtime = std::chrono::system_clock::from_time_t(st.st_mtime);
    if (mtime >= cutoff) continue;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return ErrnoStatus("dump retention: remove " + path);
    removed.push_back(name);
  }
  return removed;
}

}  // namespace pgrt
