#include "pooler/pgbouncer_log.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

namespace pgrt {
namespace {

// Per wake-up: the loop's other work (health checks, the API, the client door) goes first.
constexpr int kReadsPerWakeup = 8;
constexpr size_t kReadBytes = 64 * 1024;

}  // namespace

Result<std::unique_ptr<PgbouncerLog>> PgbouncerLog::Open(EventLoop& loop, int forward_fd,
                                                         LineCallback on_line) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pgbouncer log: pipe");
  UniqueFd read(fds[0]), write(fds[1]);
  if (::fcntl(read.get(), F_SETFL, O_NONBLOCK) != 0)
    return ErrnoStatus("pgbouncer log: non-blocking pipe");
  // Best effort: an unprivileged pgrt may be held to /proc/sys/fs/pipe-max-size.
  (void)::fcntl(write.get(), F_SETPIPE_SZ, kPipeBytes);
  std::unique_ptr<PgbouncerLog> log(
      new PgbouncerLog(loop, forward_fd, std::move(on_line), std::move(read), std::move(write)));
  PgbouncerLog* self = log.get();
  if (Status st = loop.Watch(self->read_.get(), [self] { self->OnReadable(); }); !st.ok())
    return st.Wrap("pgbouncer log");
  return log;
}

PgbouncerLog::PgbouncerLog(EventLoop& loop, int forward_fd, LineCallback on_line, UniqueFd read,
                           UniqueFd write)
    : loop_(loop),
      forward_fd_(forward_fd),
      on_line_(std::move(on_line)),
      read_(std::move(read)),
      write_(std::move(write)) {}

PgbouncerLog::~PgbouncerLog() {
  if (read_) loop_.Unwatch(read_.get());
  if (!pending_.empty()) Forward(pending_);
}

void PgbouncerLog::OnReadable() {
  char buf[kReadBytes];
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    ssize_t n = ::read(read_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EAGAIN: drained (no EOF while pgrt holds the write end)
    pending_.append(buf, static_cast<size_t>(n));
    TakeLines();
    if (static_cast<size_t>(n) < sizeof buf) return;
  }
}

void PgbouncerLog::TakeLines() {
  size_t start = 0;
  for (size_t nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n', start)) {
    if (!skipping_ && nl - start <= kMaxLineBytes)
      on_line_(std::string_view(pending_.data() + start, nl - start));
    skipping_ = false;
    start = nl + 1;
  }
  // Whole lines at once, so they do not interleave with pgrt's own log lines.
  Forward(std::string_view(pending_.data(), start));
  pending_.erase(0, start);
  if (pending_.size() > kMaxLineBytes) {  // no line feed in sight: pass it on as it is
    Forward(pending_);
    pending_.clear();
    skipping_ = true;  // what follows, up to the line feed, is the same line's end
  }
}

void PgbouncerLog::Forward(std::string_view bytes) const {
  while (!bytes.empty()) {
    ssize_t n = ::write(forward_fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // pgrt's stderr is gone or non-blocking and full: nothing to wait for
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace pgrt
