// FileWatch: tells the loop when a set of files has changed, however it was changed: written
// in place, replaced by a rename, or reached through a symbolic link that was swapped (as
// certbot's live/ links and Kubernetes' `..data` secret volumes are). inotify watches the
// directory each path is in (events on the path's own inode would miss a rename over it);
// any event there, after the writes have settled, leads to a look at the files. A periodic
// look (`poll`) covers what inotify cannot see (network file systems, a directory that did
// not exist yet). A look compares each file's identity (stat through links: device, inode,
// size, modification and change times) with the last one reported, so an unrelated event in a
// busy directory costs a few stat calls and nothing else.
//
// Loop thread only; nothing here blocks.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "process/event_loop.h"
#include "util/unique_fd.h"

namespace pgrt {

struct FileWatchTiming {
  Millis settle{300};     // quiet time after the last event before looking
  Millis max_wait{2000};  // a look at the latest this long after the first event of a burst
  Millis poll{3000};      // the periodic look
};

class FileWatch {
 public:
  // `on_change` runs on the loop after a look found the files changed since the last time
  // (or since Start).
  FileWatch(EventLoop& loop, std::vector<std::string> files, FileWatchTiming timing,
            std::function<void()> on_change);
  ~FileWatch();
  FileWatch(const FileWatch&) = delete;
  FileWatch& operator=(const FileWatch&) = delete;

  // Records the files' identity and starts watching. Without inotify (or a directory to
  // watch) only the periodic look runs; that is reported in the log, not as an error.
  void Start();

  // The identity of the files now: what a look compares.
  std::string Signature() const;

 private:
  void OnEvents();
  void Look();
  void Poll();

  EventLoop& loop_;
  const std::vector<std::string> files_;
  const FileWatchTiming timing_;
  std::function<void()> on_change_;
  UniqueFd inotify_;
  std::string last_;
  EventLoop::TimerId look_timer_ = 0;
  EventLoop::TimerId poll_timer_ = 0;
  SteadyTime burst_started_{};
};

}  // namespace pgrt
