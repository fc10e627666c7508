// CancelToken: the one cancellation point of a task on the loop (the runtime's for the
// start-up, the node's for a rejoin). Its owner cancels it when pgrt stops; every awaitable
// (process/awaitables.h, RunCommand) observes it, so a task needs no plumbing of its own:
// the step it waits on ends with an error that says why ("pg_basebackup: interrupted by
// signal 15"), a running command's process group is stopped, and the task unwinds through
// its ordinary error paths.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "util/map_entry_handle.h"
#include "util/status.h"

namespace pgrt {

class CancelToken {
 public:
  // Forgets its callback when it goes (an awaitable that finished or was destroyed).
  using Registration = MapEntryHandle<std::map<uint64_t, std::function<void()>>>;

  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  bool cancelled() const { return cancelled_; }
  // Why ("interrupted by signal 15"); empty until cancelled.
  const std::string& reason() const { return reason_; }
  // "<what>: <reason>": the error an interrupted step returns.
  Status Error(std::string_view what) const {
    return Status::Error(std::string(what) + ": " + reason_);
  }

  // The first call wins; each registered callback runs once, on the caller's thread (the
  // loop's). A callback may register or forget others.
  void Cancel(std::string reason);

  // `cb` runs when the token is cancelled, unless the registration went first. Nothing is
  // registered on a token already cancelled: callers look at cancelled() first.
  [[nodiscard]] Registration OnCancel(std::function<void()> cb);

 private:
  bool cancelled_ = false;
  std::string reason_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void()>> callbacks_;
};

}  // namespace pgrt
