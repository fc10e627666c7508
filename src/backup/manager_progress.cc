// A running backup's progress: pgBackRest (at log level detail) prints a line per file with
// the share of bytes copied so far into the backup step's output file; once a second the
// manager reads that file's tail. A few kilobytes of a local file, like the once-a-second
// statvfs of the volumes: cheap enough for the loop.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/manager.h"
#include "backup/manager_internal.h"
#include "backup/pgbackrest.h"
#include "util/fs.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

constexpr Millis kProgressEvery{1000};
constexpr off_t kTailBytes = 8192;  // several file lines: the last whole one is in there

// The last kTailBytes of `path`; "" when it cannot be read (the step has not begun).
std::string ReadTail(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) return "";
  const off_t from = st.st_size > kTailBytes ? st.st_size - kTailBytes : 0;
  std::string out(static_cast<size_t>(st.st_size - from), '\0');
  const ssize_t got = ::pread(fd.get(), out.data(), out.size(), from);
  out.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return out;
}

}  // namespace

void BackupManager::WatchBackupProgress() {
  progress_timer_ = loop_.AddTimer(kProgressEvery, [this] {
    progress_timer_ = 0;
    const BackupPaths p = BackupPaths::From(ctx_.config);
    auto r = LastPgBackRestProgress(ReadTail(JoinPath(p.runtime_dir, "backup") + ".stdout"));
    if (r) {
      backup_progress_ = r;
      backup_progress_at_ = loop_.clock().WallNow();
      const bool finished = *r->percent >= 100 && backup_progress_logged_ < 100;
      if (finished || *r->percent - backup_progress_logged_ >= 10) {
        spdlog::info("backup: {:.0f} % of the bytes copied", *r->percent);
        backup_progress_logged_ = *r->percent;
      }
      Publish();
    }
    WatchBackupProgress();
  });
}

void BackupManager::StopWatchingProgress() {
  if (progress_timer_) loop_.CancelTimer(progress_timer_);
  progress_timer_ = 0;
  backup_progress_.reset();
  backup_progress_at_.reset();
  backup_progress_logged_ = -100;
}

}  // namespace pgrt
