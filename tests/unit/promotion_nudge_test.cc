// PromotionNudge on simulated time: nudges come soon after the start and then keep coming
// at a bounded pace until the nudge is dropped.
#include "node/promotion_nudge.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "util/fake_clock.h"

namespace pgrt {
namespace {

class PromotionNudgeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.Init().ok()); }
  // Moves simulated time ahead in 1 ms steps, turning the loop at each.
  void Pass(Millis total) {
    for (Millis t{0}; t < total; t += Millis(1)) {
      clock_.Advance(Millis(1));
      ASSERT_TRUE(loop_.RunOnce(Millis(0)).ok());
    }
  }
  FakeClock clock_;
  EventLoop loop_{clock_};
};

TEST_F(PromotionNudgeTest, FirstNudgeWithinTenMillisecondsThenAtMostTwoASecondUntilDropped) {
  std::vector<SteadyTime> at;
  const SteadyTime start = clock_.Now();
  std::optional<PromotionNudge> nudge;
  nudge.emplace(loop_, [&] { at.push_back(clock_.Now()); });
  Pass(Millis(10));
  ASSERT_EQ(at.size(), 1u) << "a promote request is noticed only after a nudge";
  EXPECT_LE(at[0] - start, Millis(10));
  Pass(Millis(4990));
  // 10, 40, 100, 200, 500 ms, then every 500 ms to 5 s.
  EXPECT_EQ(at.size(), 14u);
  for (size_t i = 1; i < at.size(); ++i) EXPECT_LE(at[i] - at[i - 1], Millis(500));
  for (size_t i = at.size() - 5; i < at.size(); ++i)
    EXPECT_EQ(at[i] - at[i - 1], Millis(500)) << "the pace is bounded once it is long";
  nudge.reset();
  const size_t before = at.size();
  Pass(Millis(2000));
  EXPECT_EQ(at.size(), before) << "no nudge after the promotion ended";
}

}  // namespace
}  // namespace pgrt
