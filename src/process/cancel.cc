#include "process/cancel.h"

namespace pgrt {

void CancelToken::Cancel(std::string reason) {
  if (cancelled_) return;
  cancelled_ = true;
  reason_ = std::move(reason);
  // One at a time, taken out before it runs: a callback resumes a task, which may forget
  // its own registration and others, or make new ones (which are not kept: cancelled_).
  while (!callbacks_.empty()) {
    auto first = callbacks_.begin();
    std::function<void()> cb = std::move(first->second);
    callbacks_.erase(first);
    cb();
  }
}

CancelToken::Registration CancelToken::OnCancel(std::function<void()> cb) {
  if (cancelled_) return {};
  const uint64_t id = next_id_++;
  callbacks_.emplace(id, std::move(cb));
  return Registration(&callbacks_, id);
}

}  // namespace pgrt
