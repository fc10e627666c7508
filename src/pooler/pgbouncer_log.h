// PgbouncerLog: PgBouncer's stderr (its whole log) through a pipe pgrt reads on the event
// loop. Every line goes on to pgrt's own stderr unchanged, where PgBouncer wrote it directly
// before, and to `on_line` (the error counter behind pgbouncer_errors_count).
//
// Never blocks the loop on PgBouncer: the read end is non-blocking and each wake-up reads a
// bounded amount. The pipe outlives PgBouncer's restarts (pgrt keeps the write end open, so
// there is no end of file), and its buffer is raised to kPipeBytes so that PgBouncer is not
// held up by its log while the loop is busy elsewhere. A line longer than kMaxLineBytes is
// passed on in pieces and not given to `on_line`.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "process/event_loop.h"
#include "util/status.h"
#include "util/unique_fd.h"

namespace pgrt {

class PgbouncerLog {
 public:
  using LineCallback = std::function<void(std::string_view line)>;
  static constexpr int kPipeBytes = 1 << 20;
  static constexpr size_t kMaxLineBytes = 16 * 1024;

  // `forward_fd`: where the lines go on to (pgrt's stderr, 2).
  static Result<std::unique_ptr<PgbouncerLog>> Open(EventLoop& loop, int forward_fd,
                                                    LineCallback on_line);
  ~PgbouncerLog();
  PgbouncerLog(const PgbouncerLog&) = delete;
  PgbouncerLog& operator=(const PgbouncerLog&) = delete;

  // PgBouncer's stderr (SpawnSpec::stderr_fd); close-on-exec in pgrt.
  int write_fd() const { return write_.get(); }

 private:
  PgbouncerLog(EventLoop& loop, int forward_fd, LineCallback on_line, UniqueFd read,
               UniqueFd write);
  void OnReadable();
  // Hands the complete lines of `pending_` on; keeps the unfinished tail.
  void TakeLines();
  void Forward(std::string_view bytes) const;

  EventLoop& loop_;
  const int forward_fd_;
  LineCallback on_line_;
  UniqueFd read_;
  UniqueFd write_;
  std::string pending_;    // read, not yet a whole line
  bool skipping_ = false;  // in the rest of a line too long to count
};

}  // namespace pgrt
