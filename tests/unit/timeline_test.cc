// Whether a replica's data forked from a new primary's timeline: the history file's lines and
// the verdict for a replica on each side of the switch point.
#include "replication/timeline.h"

#include <gtest/gtest.h>

namespace pgrt {
namespace {

TEST(WalPosition, ParsesAndFormatsBothHalves) {
  EXPECT_EQ(ParseWalPosition("0/3000148").value(), 0x3000148u);
  EXPECT_EQ(ParseWalPosition("1A/FF").value(), (uint64_t{0x1A} << 32) | 0xFF);
  EXPECT_EQ(FormatWalPosition((uint64_t{0x1A} << 32) | 0xFF), "1A/FF");
  EXPECT_FALSE(ParseWalPosition("3000148").ok());
  EXPECT_FALSE(ParseWalPosition("0/").ok());
  EXPECT_FALSE(ParseWalPosition("0/xyz").ok());
}

TEST(TimelineHistory, ReadsEverySwitchAndSkipsCommentsAndBlankLines) {
  auto h = ParseTimelineHistory(
      "1\t0/3000148\tno recovery target specified\n"
      "\n"
      "# a comment\n"
      "2\t0/5000000\tno recovery target specified\n");
  ASSERT_TRUE(h.ok()) << h.status().message();
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].parent, 1u);
  EXPECT_EQ((*h)[0].switchpoint, 0x3000148u);
  EXPECT_EQ((*h)[1].parent, 2u);
  EXPECT_EQ((*h)[1].switchpoint, 0x5000000u);
  EXPECT_FALSE(ParseTimelineHistory("1\n").ok());
  EXPECT_FALSE(ParseTimelineHistory("x\t0/1\treason\n").ok());
}

const std::vector<TimelineSwitch> kHistory = {{1, 0x3000148}, {2, 0x5000000}};

TEST(JudgeFork, AReplicaPastTheSwitchPointOfItsTimelineNeedsARewind) {
  ForkVerdict v = JudgeFork({1, 0x3000200}, 3, kHistory);
  EXPECT_TRUE(v.rewind);
  EXPECT_NE(v.why.find("past 0/3000148"), std::string::npos) << v.why;
}

TEST(JudgeFork, AReplicaAtOrBeforeTheSwitchPointFollowsAsItIs) {
  EXPECT_FALSE(JudgeFork({1, 0x3000148}, 3, kHistory).rewind);
  EXPECT_FALSE(JudgeFork({1, 0x2000000}, 3, kHistory).rewind);
  EXPECT_FALSE(JudgeFork({2, 0x4000000}, 3, kHistory).rewind);
  EXPECT_TRUE(JudgeFork({2, 0x5000001}, 3, kHistory).rewind);
}

TEST(JudgeFork, TheSameTimelineNeedsNoRewindAndANewerOneAlwaysDoes) {
  EXPECT_FALSE(JudgeFork({3, 0x9000000}, 3, {}).rewind);
  EXPECT_TRUE(JudgeFork({4, 0x1000000}, 3, kHistory).rewind);
}

TEST(JudgeFork, ATimelineMissingFromThePrimarysHistoryNeedsARewind) {
  // Timeline 2 forked off 1 elsewhere; the primary's timeline 3 came from 1 directly.
  ForkVerdict v = JudgeFork({2, 0x3000000}, 3, {{1, 0x3000148}});
  EXPECT_TRUE(v.rewind);
  EXPECT_NE(v.why.find("not in the history"), std::string::npos) << v.why;
}

}  // namespace
}  // namespace pgrt
