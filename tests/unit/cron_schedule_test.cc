// Cron schedules: parsing, the next fire time, and which fire times a late wake-up missed.
// Time is handed in; nothing here reads a clock.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "backup/cron.h"
#include "backup/fire_tracker.h"
#include "backup/schedule_policy.h"
#include "config/values.h"

namespace pgrt {
namespace {

using namespace std::chrono;

// "2024-01-31T03:00:00Z" → a system_clock time point.
SystemTime At(const std::string& iso) {
  int y, mo, d, h, mi, s;
  EXPECT_EQ(std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s), 6) << iso;
  sys_days day = year(y) / month(static_cast<unsigned>(mo)) / static_cast<unsigned>(d);
  return time_point_cast<SystemTime::duration>(day + hours(h) + minutes(mi) + seconds(s));
}

CronSchedule Cron(const std::string& expr) {
  auto c = CronSchedule::Parse(expr);
  EXPECT_TRUE(c.ok()) << expr << ": " << c.status().message();
  return *c;
}

struct NextCase {
  const char* expr;
  const char* after;
  const char* expected;  // "" when it never fires
};

TEST(CronSchedule, NextFireTimeIsTheFirstMatchingMinuteStrictlyAfter) {
  const NextCase cases[] = {
      {"0 3 * * *", "2024-01-31T02:59:59Z", "2024-01-31T03:00:00Z"},
      {"0 3 * * *", "2024-01-31T03:00:00Z", "2024-02-01T03:00:00Z"},
      {"0 3 * * *", "2024-01-31T03:00:30Z", "2024-02-01T03:00:00Z"},
      {"*/15 * * * *", "2024-01-31T03:07:30Z", "2024-01-31T03:15:00Z"},
      {"*/15 * * * *", "2024-12-31T23:59:00Z", "2025-01-01T00:00:00Z"},
      {"* * * * *", "2024-01-31T03:07:59Z", "2024-01-31T03:08:00Z"},
      {"0 0 29 2 *", "2023-03-01T00:00:00Z", "2024-02-29T00:00:00Z"},
      {"30 4 1,15 * *", "2024-01-02T00:00:00Z", "2024-01-15T04:30:00Z"},
      {"0 9-17/4 * * *", "2024-01-31T10:00:00Z", "2024-01-31T13:00:00Z"},
      {"5 4 * 1-12/2 *", "2024-02-10T00:00:00Z", "2024-03-01T04:05:00Z"},
      {"59 23 31 12 *", "2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z"},
      // 2024-01-31 is a Wednesday; day-of-week 0 and 7 are both Sunday.
      {"0 0 * * 0", "2024-01-31T12:00:00Z", "2024-02-04T00:00:00Z"},
      {"0 0 * * 7", "2024-01-31T12:00:00Z", "2024-02-04T00:00:00Z"},
      {"0 12 * * 1-5", "2024-02-03T13:00:00Z", "2024-02-05T12:00:00Z"},
      // Both day fields restricted: either matches (the 13th, or any Friday).
      {"0 0 13 * 5", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"},
      {"0 0 13 * 5", "2024-01-12T00:00:00Z", "2024-01-13T00:00:00Z"},
      // A day-of-month starting with * counts as unrestricted: odd days that are Mondays.
      {"0 0 */2 * 1", "2024-01-01T00:00:00Z", "2024-01-15T00:00:00Z"},
      {"0 0 30 2 *", "2024-01-01T00:00:00Z", ""},
  };
  for (const NextCase& c : cases) {
    std::optional<SystemTime> next = Cron(c.expr).NextAfter(At(c.after));
    if (*c.expected == '\0') {
      EXPECT_FALSE(next.has_value()) << c.expr << " after " << c.after;
      continue;
    }
    ASSERT_TRUE(next.has_value()) << c.expr << " after " << c.after;
    EXPECT_EQ(FormatUtc(*next), c.expected) << c.expr << " after " << c.after;
  }
}

TEST(CronSchedule, RefusesWhatTheConfigRefusesWithTheSameReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"* * *", "expected 5 fields, got 3"},
      {"@daily", "expected 5 fields, got 1"},
      {"60 * * * *", "minute: \"60\" is out of range 0-59"},
      {"0 24 * * *", "hour: \"24\" is out of range 0-23"},
      {"0 0 0 * *", "day-of-month: \"0\" is out of range 1-31"},
      {"0 0 * 13 *", "month: \"13\" is out of range 1-12"},
      {"0 0 * * 8", "day-of-week: \"8\" is out of range 0-7"},
      {"*/0 * * * *", "minute: \"*/0\" has a bad step"},
      {"5-1 * * * *", "minute: \"5-1\" is a reversed range"},
      {"5/10 * * * *", "minute: \"5/10\" needs * or a range before /"},
      {"a * * * *", "minute: \"a\" is not a number or range"},
      {"1-2-3 * * * *", "minute: \"1-2-3\" is not a number or range"},
  };
  for (const auto& [expr, why] : cases) {
    auto c = CronSchedule::Parse(expr);
    ASSERT_FALSE(c.ok()) << expr;
    EXPECT_EQ(c.status().message(), why) << expr;
    EXPECT_TRUE(CheckCron(expr).has_value()) << expr << " passes the config's check";
  }
}

TEST(CronSchedule, AcceptsEverythingTheConfigAccepts) {
  for (const char* expr : {"0 3 * * *", "*/15 0-6 1,15 * 1-5", "0 0 * 1-12/2 7", "5,10 1\t2 3 4",
                           "  0  3  *  *  *  ", "0-59/5 * * * *"}) {
    EXPECT_FALSE(CheckCron(expr).has_value()) << expr;
    EXPECT_TRUE(CronSchedule::Parse(expr).ok()) << expr;
  }
}

TEST(FireTracker, FiresOnceWhenTheTimeComesAndThenWaitsForTheNext) {
  FireTracker t(Cron("0 3 * * *"), At("2024-01-31T02:59:00Z"));
  EXPECT_FALSE(t.Poll(At("2024-01-31T02:59:59Z")).has_value());
  auto due = t.Poll(At("2024-01-31T03:00:00Z"));
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(FormatUtc(due->at), "2024-01-31T03:00:00Z");
  EXPECT_EQ(due->missed, 0);
  EXPECT_FALSE(t.Poll(At("2024-01-31T03:00:01Z")).has_value());
  EXPECT_EQ(FormatUtc(*t.next()), "2024-02-01T03:00:00Z");
}

TEST(FireTracker, ALateWakeUpServesTheLatestFireTimeAndCountsTheMissedOnes) {
  FireTracker t(Cron("*/10 * * * *"), At("2024-01-31T00:00:00Z"));
  auto due = t.Poll(At("2024-01-31T00:35:00Z"));
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(FormatUtc(due->at), "2024-01-31T00:30:00Z");
  EXPECT_EQ(due->missed, 2);  // 00:10 and 00:20
  EXPECT_EQ(FormatUtc(*t.next()), "2024-01-31T00:40:00Z");
}

TEST(FireTracker, AClockSteppingBackDoesNotFireEarly) {
  FireTracker t(Cron("0 3 * * *"), At("2024-01-31T02:00:00Z"));
  EXPECT_FALSE(t.Poll(At("2024-01-30T23:00:00Z")).has_value());
  EXPECT_EQ(FormatUtc(*t.next()), "2024-01-31T03:00:00Z");
}

TEST(FireTracker, SleepsUntilTheNextFireTimeButAtMostTheCap) {
  FireTracker t(Cron("0 3 * * *"), At("2024-01-31T02:00:00Z"));
  EXPECT_EQ(t.Delay(At("2024-01-31T02:59:30Z")), Millis(30000));
  EXPECT_EQ(t.Delay(At("2024-01-31T02:00:00Z")), Millis(60000));
  EXPECT_EQ(t.Delay(At("2024-01-31T03:00:05Z")), Millis(0));
  FireTracker never(Cron("0 0 30 2 *"), At("2024-01-31T02:00:00Z"));
  EXPECT_FALSE(never.next().has_value());
  EXPECT_EQ(never.Delay(At("2024-01-31T02:00:00Z")), Millis(60000));
}

TEST(ScheduledRun, AReplicaRunsScheduledBackupsOnlyWhenAllowed) {
  using D = ScheduledDecision;
  struct Case {
    bool ready, replica, on_replica, busy;
    D expected;
  };
  const Case cases[] = {
      {true, false, false, false, D::kRun},
      {true, true, false, false, D::kSkipReplica},
      {true, true, true, false, D::kRun},
      {false, true, false, false, D::kSkipReplica},
      {false, false, false, false, D::kMissNotReady},
      {true, false, false, true, D::kMissBusy},
      {true, true, true, true, D::kMissBusy},
  };
  for (const Case& c : cases)
    EXPECT_EQ(DecideScheduledRun(c.ready, c.replica, c.on_replica, c.busy), c.expected)
        << "ready=" << c.ready << " replica=" << c.replica << " on_replica=" << c.on_replica
        << " busy=" << c.busy;
}

}  // namespace
}  // namespace pgrt
