// Logical dump files: their names, which of them are pgrt's, and retention by age. Files in
// a scratch directory get backdated modification times; "now" is handed in.
#include <gtest/gtest.h>
#include <sys/time.h>

#include "backup/dump.h"
#include "backup/retention.h"
#include "scratch_dir.h"
#include "util/fs.h"

namespace pgrt {
namespace {

using namespace std::chrono;
using test::ScratchDir;

TEST(DumpNames, AreDatabaseThenUtcStampWithUnsafeBytesEncoded) {
  const SystemTime t = system_clock::from_time_t(1706670000);  // 2024-01-31 03:00:00 UTC
  EXPECT_EQ(DumpStamp(t), "20240131T030000Z");
  EXPECT_EQ(DumpFileName("appdb", "20240131T030000Z"), "appdb-20240131T030000Z.dump");
  EXPECT_EQ(DumpFileName("my-db.v2", "20240131T030000Z"), "my-db.v2-20240131T030000Z.dump");
  EXPECT_EQ(DumpFileName("a b/c", "20240131T030000Z"), "a%20b%2Fc-20240131T030000Z.dump");
  EXPECT_EQ(DumpFileName("..", "20240131T030000Z"), "%2E.-20240131T030000Z.dump");
  EXPECT_EQ(DumpFileName("é", "20240131T030000Z"), "%C3%A9-20240131T030000Z.dump");
  EXPECT_EQ(GlobalsFileName("20240131T030000Z"), "globals-20240131T030000Z.sql");
}

TEST(DumpNames, OnlyPgrtsOwnShapesCountAsItsFiles) {
  struct Case {
    const char* name;
    bool own;
  };
  const Case cases[] = {
      {"appdb-20240131T030000Z.dump", true},
      {"a%20b-20240131T030000Z.dump", true},
      {"globals-20240131T030000Z.sql", true},
      {".pgrt-tmp-appdb-20240131T030000Z.dump", true},
      {".pgrt-tmp-globals-20240131T030000Z.sql", true},
      {"appdb-20240131T030000Z.dump.bak", false},
      {"appdb.dump", false},
      {"appdb-backup.dump", false},
      {"-20240131T030000Z.dump", false},
      {"appdb-20240131T0300Z.dump", false},
      {"appdb-20240131X030000Z.dump", false},
      {"other-20240131T030000Z.sql", false},
      {"notes.txt", false},
  };
  for (const Case& c : cases) EXPECT_EQ(IsOwnDumpFile(c.name), c.own) << c.name;
}

void Touch(const std::string& path, SystemTime mtime) {
  test::WriteText(path, "x");
  timeval times[2];
  times[0].tv_sec = times[1].tv_sec = system_clock::to_time_t(mtime);
  times[0].tv_usec = times[1].tv_usec = 0;
  ASSERT_EQ(::utimes(path.c_str(), times), 0) << path;
}

TEST(DumpRetention, RemovesOnlyPgrtsOwnFilesOlderThanTheRetention) {
  ScratchDir dir;
  const SystemTime now = system_clock::from_time_t(1706670000);
  const auto days = [&](int n) { return now - hours(24) * n; };
  Touch(dir / "appdb-20240101T030000Z.dump", days(10));            // own, old: removed
  Touch(dir / "globals-20240101T030000Z.sql", days(10));           // own, old: removed
  Touch(dir / ".pgrt-tmp-x-20240101T030000Z.dump", days(10));      // own temp, old: removed
  Touch(dir / "appdb-20240129T030000Z.dump", days(2));             // own, recent: kept
  Touch(dir / "appdb-20240130T030000Z.dump", days(7) + hours(1));  // just inside: kept
  Touch(dir / "notes.txt", days(30));                              // not ours: kept
  Touch(dir / "appdb-backup.dump", days(30));                      // not ours: kept

  auto removed = PruneDumps(dir.path(), now, 7);
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, (std::vector<std::string>{".pgrt-tmp-x-20240101T030000Z.dump",
                                                "appdb-20240101T030000Z.dump",
                                                "globals-20240101T030000Z.sql"}));
  auto left = ListDirectory(dir.path());
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left,
            (std::vector<std::string>{"appdb-20240129T030000Z.dump", "appdb-20240130T030000Z.dump",
                                      "appdb-backup.dump", "notes.txt"}));
}

TEST(DumpRetention, AMissingDirectoryIsAnError) {
  auto r = PruneDumps("/nonexistent/pgrt-dumps", system_clock::now(), 7);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace pgrt
