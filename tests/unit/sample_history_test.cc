// SampleHistory: the status page's hour of samples, kept at a fixed cost whatever the
// observation rate or the uptime.
#include "state/sample_history.h"

#include <gtest/gtest.h>

#include "state/node_state.h"

namespace pgrt {
namespace {

using std::chrono::seconds;

SampleHistory::Reading At(int t, int64_t xacts, double wal, int connections = 3, int64_t lag = 0) {
  SampleHistory::Reading r;
  r.at = SystemTime(seconds(1700000000 + t));
  r.xacts = xacts;
  r.wal_bytes = wal;
  r.connections = connections;
  r.lag_bytes = lag;
  return r;
}

SteadyTime Tick(int t) { return SteadyTime(seconds(t)); }

TEST(SampleHistory, KeepsOneSamplePerIntervalWithRatesFromTheCountersDeltas) {
  SampleHistory h;
  for (int t = 0; t <= 20; ++t) h.Offer(At(t, 1000 + 50 * t, 8192.0 * t), Tick(t));
  auto s = h.Samples();
  ASSERT_EQ(s.size(), 3u);  // t = 0, 10, 20
  EXPECT_LT(s[0].tps, 0) << "the first sample has nothing to compare with";
  EXPECT_DOUBLE_EQ(s[1].tps, 50);
  EXPECT_DOUBLE_EQ(s[1].wal_bytes_per_second, 8192);
  EXPECT_EQ(s[2].at, SystemTime(seconds(1700000020)));
}

TEST(SampleHistory, NeverHoldsMoreThanItsCapacityAndDropsTheOldestFirst) {
  SampleHistory h;
  const int hours = 3;
  const int last = hours * 3600;
  for (int t = 0; t <= last; ++t) h.Offer(At(t, t, t), Tick(t));
  auto s = h.Samples();
  ASSERT_EQ(s.size(), SampleHistory::kCapacity);
  EXPECT_EQ(s.back().at, SystemTime(seconds(1700000000 + last)));
  EXPECT_EQ(s.front().at, SystemTime(seconds(1700000000 + last - 10 * 359)));
  for (size_t i = 1; i < s.size(); ++i) EXPECT_EQ(s[i].at - s[i - 1].at, seconds(10));
}

TEST(SampleHistory, ACounterThatWentBackGivesNoRateInsteadOfANegativeOne) {
  SampleHistory h;
  h.Offer(At(0, 5000, 1e6), Tick(0));
  h.Offer(At(10, 10, 2e6), Tick(10));  // statistics reset by a crash recovery
  auto s = h.Samples();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_LT(s[1].tps, 0);
  EXPECT_DOUBLE_EQ(s[1].wal_bytes_per_second, 1e5);
}

TEST(SampleHistory, AGapWithoutObservationsGivesNoRate) {
  SampleHistory h;
  h.Offer(At(0, 0, 0), Tick(0));
  h.Offer(At(120, 1200, 1200), Tick(120));  // postgres was down for two minutes
  auto s = h.Samples();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_LT(s[1].tps, 0);
  EXPECT_LT(s[1].wal_bytes_per_second, 0);
}

TEST(SampleHistory, LagIsTheLargestSeenDuringTheInterval) {
  SampleHistory h;
  h.Offer(At(0, 0, 0, 3, 0), Tick(0));
  h.Offer(At(4, 0, 0, 3, 900), Tick(4));  // a spike between two samples
  h.Offer(At(10, 0, 0, 5, 100), Tick(10));
  h.Offer(At(20, 0, 0, 5, 20), Tick(20));
  auto s = h.Samples();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1].lag_bytes, 900);
  EXPECT_EQ(s[1].connections, 5);
  EXPECT_EQ(s[2].lag_bytes, 20);
}

TEST(SampleHistory, APrimarysLagIsItsSlowestStandbysAndAReplicasItsOwn) {
  Observation primary;
  primary.role = PgRole::kPrimary;
  primary.standbys = nlohmann::json::array({{{"lagBytes", 10}, {"replayLagSeconds", 0.5}},
                                            {{"lagBytes", 4096}, {"replayLagSeconds", nullptr}}});
  auto r = SampleHistory::ReadingOf(primary);
  EXPECT_EQ(r.lag_bytes, 4096);
  EXPECT_DOUBLE_EQ(r.lag_seconds, 0.5);
  Observation replica;
  replica.role = PgRole::kReplica;
  replica.replay_lag_bytes = 77;
  replica.lag_seconds = 1.25;
  r = SampleHistory::ReadingOf(replica);
  EXPECT_EQ(r.lag_bytes, 77);
  EXPECT_DOUBLE_EQ(r.lag_seconds, 1.25);
}

}  // namespace
}  // namespace pgrt
