// Timings: start-up phases as /__opr/timings renders them.
#include "state/timings.h"

#include <gtest/gtest.h>

#include <string>

#include "util/clock.h"

namespace pgrt {
namespace {

const SteadyTime kLaunch = SteadyTime(std::chrono::hours(10));

SteadyTime At(int ms) { return kLaunch + Millis(ms); }

TEST(Timings, RendersNothingBeforeTheFirstPhaseEnds) {
  Timings t(kLaunch);
  EXPECT_EQ(t.Render(), "");
  EXPECT_EQ(t.launch(), kLaunch);
}

TEST(Timings, RendersPhasesInTheOrderTheyEndedWithTheirOwnDurations) {
  Timings t(kLaunch);
  t.EndPhase("validate", At(1));
  t.EndPhase("prepare", At(251));
  t.EndPhase("initdb", At(1251));
  EXPECT_EQ(t.Render(), "validate=0.001\nprepare=0.250\ninitdb=1.000\n");
}

TEST(Timings, PutsStartupFirstOnceReady) {
  Timings t(kLaunch);
  t.EndPhase("validate", At(2));
  t.EndPhase("prepare", At(300));
  t.MarkReady(At(412));
  EXPECT_EQ(t.Render(), "startup=0.412\nvalidate=0.002\nprepare=0.298\nready=0.112\n");
}

TEST(Timings, IgnoresReadinessAfterTheFirst) {
  // A restarted postgres becomes ready again; start-up happened once.
  Timings t(kLaunch);
  t.EndPhase("prepare", At(100));
  t.MarkReady(At(200));
  const std::string first = t.Render();
  t.MarkReady(At(5000));
  EXPECT_EQ(t.Render(), first);
  EXPECT_EQ(first, "startup=0.200\nprepare=0.100\nready=0.100\n");
}

TEST(Timings, RoundsToMilliseconds) {
  Timings t(kLaunch);
  t.EndPhase("tiny", kLaunch + std::chrono::microseconds(400));
  t.EndPhase("long", kLaunch + std::chrono::seconds(75) + std::chrono::microseconds(400));
  EXPECT_EQ(t.Render(), "tiny=0.000\nlong=75.000\n");
}

}  // namespace
}  // namespace pgrt
