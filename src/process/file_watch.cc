#include "process/file_watch.h"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace pgrt {
namespace {

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Renames and link swaps land as MOVED_TO/CREATE, writes in place as CLOSE_WRITE/MODIFY, a
// chmod or chown as ATTRIB; DELETE and MOVED_FROM matter when a file goes away.
constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                           IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

}  // namespace

FileWatch::FileWatch(EventLoop& loop, std::vector<std::string> files, FileWatchTiming timing,
                     std::function<void()> on_change)
    : loop_(loop), files_(std::move(files)), timing_(timing), on_change_(std::move(on_change)) {}

FileWatch::~FileWatch() {
  loop_.CancelTimer(look_timer_);
  loop_.CancelTimer(poll_timer_);
  if (inotify_) loop_.Unwatch(inotify_.get());
}

std::string FileWatch::Signature() const {
  std::string sig;
  for (const std::string& f : files_) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) {
      sig += f + ":error " + std::to_string(errno) + ";";
      continue;
    }
    sig += f + ":" + std::to_string(st.st_dev) + "," + std::to_string(st.st_ino) + "," +
           std::to_string(st.st_size) + "," + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec) + "," + std::to_string(st.st_ctim.tv_sec) + "." +
           std::to_string(st.st_ctim.tv_nsec) + ";";
  }
  return sig;
}

void FileWatch::Start() {
  last_ = Signature();
  inotify_ = UniqueFd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  size_t watched = 0;
  if (inotify_) {
    std::set<std::string> dirs;
    for (const std::string& f : files_) dirs.insert(DirectoryOf(f));
    for (const std::string& d : dirs) {
      if (::inotify_add_watch(inotify_.get(), d.c_str(), kMask) >= 0)
        ++watched;
      else
        spdlog::warn("watching {}: {}; its files are looked at every {} ms", d,
                     std::strerror(errno), timing_.poll.count());
    }
    if (watched == 0) inotify_ = UniqueFd();
    if (watched > 0) {
      if (Status st = loop_.Watch(inotify_.get(), [this] { OnEvents(); }); !st.ok()) {
        spdlog::warn("file watch: {}", st.message());
        inotify_ = UniqueFd();
      }
    }
  } else {
    spdlog::warn("inotify: {}; files are looked at every {} ms", std::strerror(errno),
                 timing_.poll.count());
  }
  poll_timer_ = loop_.AddTimer(timing_.poll, [this] { Poll(); });
}

void FileWatch::OnEvents() {
  alignas(inotify_event) char buf[4096];
  bool any = false;
  for (;;) {
    const ssize_t n = ::read(inotify_.get(), buf, sizeof buf);
    if (n <= 0) break;  // EAGAIN: all read
    any = true;
  }
  if (!any) return;
  // A burst (a certificate, then its key) settles before the look, within max_wait.
  const SteadyTime now = loop_.clock().Now();
  if (look_timer_ == 0) burst_started_ = now;
  loop_.CancelTimer(look_timer_);
  const Millis left = std::chrono::duration_cast<Millis>(burst_started_ + timing_.max_wait - now);
  look_timer_ = loop_.AddTimer(std::max(Millis(0), std::min(timing_.settle, left)), [this] {
    look_timer_ = 0;
    Look();
  });
}

void FileWatch::Poll() {
  poll_timer_ = loop_.AddTimer(timing_.poll, [this] { Poll(); });
  if (look_timer_ == 0) Look();
}

void FileWatch::Look() {
  std::string now = Signature();
  if (now == last_) return;
  last_ = std::move(now);
  on_change_();
}

}  // namespace pgrt
