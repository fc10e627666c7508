#include "api/live_probe.h"

namespace pgrt {

LiveProbe::LiveProbe(EventLoop& loop, ConnParams params)
    : loop_(loop),
      conn_(
          loop,
          [&] {
            params["application_name"] = "pgrt-probe";
            return params;
          }(),
          AsyncPgConn::Reuse::kFresh) {}

void LiveProbe::Check(std::function<void(const Status&)> done) {
  const SteadyTime now = loop_.clock().Now();
  if (waiting_.empty() && last_at_ && now - *last_at_ < kReuse) return done(last_);
  waiting_.push_back(std::move(done));
  if (waiting_.size() > 1) return;  // one is out: share its answer
  conn_.Query("SELECT 1", kDeadline, [this](Result<AsyncPgConn::Results> r) {
    last_ = r.status();
    last_at_ = loop_.clock().Now();
    std::vector<std::function<void(const Status&)>> waiting;
    waiting.swap(waiting_);
    for (auto& cb : waiting) cb(last_);
  });
}

}  // namespace pgrt
