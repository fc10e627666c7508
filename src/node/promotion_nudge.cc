#include "node/promotion_nudge.h"

#include <array>

namespace pgrt {
namespace {

// Short at first (the sleep begins within a millisecond of the promote request), then
// twice a second until pg_promote() returns.
constexpr std::array<Millis, 6> kGaps{Millis(10),  Millis(30),  Millis(60),
                                      Millis(100), Millis(300), Millis(500)};

}  // namespace

PromotionNudge::PromotionNudge(EventLoop& loop, std::function<void()> nudge)
    : loop_(loop), nudge_(std::move(nudge)) {
  Arm();
}

PromotionNudge::~PromotionNudge() {
  if (timer_) loop_.CancelTimer(timer_);
}

void PromotionNudge::Arm() {
  const Millis gap = kGaps[std::min(step_, kGaps.size() - 1)];
  ++step_;
  timer_ = loop_.AddTimer(gap, [this] {
    timer_ = 0;
    nudge_();
    Arm();
  });
}

}  // namespace pgrt
