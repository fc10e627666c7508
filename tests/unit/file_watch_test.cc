// FileWatch on a real loop and real files: a rename over a watched file, a swapped directory
// link and a file that appears later are noticed; an unrelated write in the same directory is
// not reported.
#include "process/file_watch.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "scratch_dir.h"

namespace pgrt {
namespace {

class FileWatchTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.Init().ok()); }
  // Turns the loop until `changes_` reaches `n` or `limit` passes; the count reached.
  int TurnUntil(int n, Millis limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (changes_ < n && std::chrono::steady_clock::now() < end)
      EXPECT_TRUE(loop_.RunOnce(Millis(20)).ok());
    return changes_;
  }

  RealClock clock_;
  EventLoop loop_{clock_};
  test::ScratchDir dir_;
  int changes_ = 0;
};

TEST_F(FileWatchTest, ARenameOverAWatchedFileIsReportedOnceAfterItSettles) {
  test::WriteText(dir_ / "tls.crt", "one");
  FileWatch w(loop_, {dir_ / "tls.crt"}, FileWatchTiming{}, [this] { ++changes_; });
  w.Start();
  test::WriteText(dir_ / "other.txt", "unrelated");
  EXPECT_EQ(TurnUntil(1, Millis(800)), 0) << "an unrelated file changed nothing watched";
  test::WriteText(dir_ / "tls.crt.tmp", "two");
  ASSERT_EQ(std::rename((dir_ / "tls.crt.tmp").c_str(), (dir_ / "tls.crt").c_str()), 0);
  EXPECT_EQ(TurnUntil(1, Millis(2000)), 1);
  EXPECT_EQ(TurnUntil(2, Millis(500)), 1) << "one change, one report";
}

TEST_F(FileWatchTest, ASwappedDirectoryLinkIsReported) {
  test::WriteText(dir_ / "v1/tls.crt", "one");
  test::WriteText(dir_ / "v2/tls.crt", "two");
  ASSERT_EQ(::symlink("v1", (dir_ / "..data").c_str()), 0);
  ASSERT_EQ(::symlink("..data/tls.crt", (dir_ / "tls.crt").c_str()), 0);
  FileWatch w(loop_, {dir_ / "tls.crt"}, FileWatchTiming{}, [this] { ++changes_; });
  w.Start();
  ASSERT_EQ(::symlink("v2", (dir_ / "..data_tmp").c_str()), 0);
  ASSERT_EQ(::rename((dir_ / "..data_tmp").c_str(), (dir_ / "..data").c_str()), 0);
  EXPECT_EQ(TurnUntil(1, Millis(2000)), 1);
}

TEST_F(FileWatchTest, AFileInADirectoryThatDidNotExistIsFoundByThePeriodicLook) {
  FileWatchTiming t;
  t.poll = Millis(200);
  FileWatch w(loop_, {dir_ / "later/tls.crt"}, t, [this] { ++changes_; });
  w.Start();
  test::WriteText(dir_ / "later/tls.crt", "now");
  EXPECT_EQ(TurnUntil(1, Millis(2000)), 1);
}

}  // namespace
}  // namespace pgrt
