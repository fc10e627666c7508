#include "pgdata/disk_space.h"

#include <sys/statvfs.h>

#include "util/fs.h"

namespace pgrt {
namespace {

std::string HumanBytes(uint64_t b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  double v = static_cast<double>(b);
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char out[32];
  std::snprintf(out, sizeof out, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return out;
}

}  // namespace

std::vector<VolumeUsage> NodeVolumes(const Config& config) {
  std::vector<VolumeUsage> out;
  out.push_back({"data", config.pgdata});
  // pg_wal is a symlink when initdb put the WAL elsewhere; statvfs follows it, but the
  // configured directory is what an operator recognises.
  out.push_back({"wal", config.initdb_waldir.empty() ? JoinPath(config.pgdata, "pg_wal")
                                                     : config.initdb_waldir});
  auto path = config.pgbackrest_env.find("PGBACKREST_REPO1_PATH");
  auto type = config.pgbackrest_env.find("PGBACKREST_REPO1_TYPE");
  bool local = type == config.pgbackrest_env.end() || type->second == "posix";
  if (path != config.pgbackrest_env.end() && !path->second.empty() && local)
    out.push_back({"backup", path->second});
  return out;
}

VolumeUsage StatVolume(VolumeUsage v) {
  struct statvfs fs {};
  v.known = ::statvfs(v.path.c_str(), &fs) == 0;
  if (!v.known) return v;
  v.read_only = (fs.f_flag & ST_RDONLY) != 0;
  v.size_bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  v.avail_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  v.files = fs.f_files;
  v.files_free = fs.f_favail;
  return v;
}

std::vector<VolumeUsage> StatVolumes(const std::vector<VolumeUsage>& volumes) {
  std::vector<VolumeUsage> out;
  out.reserve(volumes.size());
  for (const VolumeUsage& v : volumes) out.push_back(StatVolume(v));
  return out;
}

std::optional<std::string> DiskFault(const std::vector<VolumeUsage>& volumes, uint64_t min_free) {
  for (const VolumeUsage& v : volumes) {
    if (!v.known || (v.name != "data" && v.name != "wal")) continue;
    std::string which = "the " + v.name + " volume (" + v.path + ")";
    if (v.read_only) return "read-only file system: " + which + " is mounted read-only";
    if (v.avail_bytes < min_free)
      return "disk full: " + which + " has " + HumanBytes(v.avail_bytes) + " available of " +
             HumanBytes(v.size_bytes);
    // Some file systems have no fixed number of inodes and report 0 of 0.
    if (v.files > 0 && v.files_free == 0) return "disk full: " + which + " has no free inodes";
  }
  return std::nullopt;
}

}  // namespace pgrt
