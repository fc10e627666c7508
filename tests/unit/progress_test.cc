// Reading progress from what pg_basebackup and pgBackRest print while they work.
#include "util/progress.h"

#include <gtest/gtest.h>

namespace pgrt {
namespace {

TEST(Progress, PgBasebackupsLastReportGivesBytesDoneAndTheEstimatedTotal) {
  auto r = LastBaseBackupProgress(
      "waiting for checkpoint\n    0/22431 kB (0%), 0/1 tablespace\n"
      "11215/22431 kB (49%), 0/1 tablespace\r22431/22431 kB (100%), 1/1 tablespace\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes_done, 22431u * 1024);
  EXPECT_EQ(r->bytes_total, 22431u * 1024);
  EXPECT_EQ(r->percent, 100);
  EXPECT_FALSE(LastBaseBackupProgress("pg_basebackup: error: connection refused"));
}

TEST(Progress, PgBackRestsFileLinesGiveThePercentageOfBytes) {
  auto r = LastPgBackRestProgress(
      "P00 DETAIL: backup file /d/base/1/1259 (112KB, 15.73%) checksum 0a1b\n"
      "P00 DETAIL: backup file /d/PG_VERSION (3B, 16.01%) checksum 2c3d\n"
      "P00   INFO: backup start archive = 000000010000000000000003");
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(*r->percent, 16.01);
  EXPECT_FALSE(r->bytes_done);
  r = LastPgBackRestProgress(
      "P00 DETAIL: restore file /d/global/pg_control (8KB, 100%) checksum x");
  ASSERT_TRUE(r);
  EXPECT_DOUBLE_EQ(*r->percent, 100);
  EXPECT_FALSE(LastPgBackRestProgress("P00   INFO: restore command begin 2.45"));
}

}  // namespace
}  // namespace pgrt
