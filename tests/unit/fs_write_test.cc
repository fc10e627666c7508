// Atomic file writes never write or chown through a link planted at the file's name or at
// its temporary name.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "scratch_dir.h"
#include "util/fs.h"

namespace pgrt {
namespace {

using test::ReadText;
using test::ScratchDir;
using test::WriteText;

struct stat LstatOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

TEST(WriteFileAtomic, ALinkPlantedAtTheTemporaryNameIsReplacedNotWrittenThrough) {
  ScratchDir dir;
  const std::string victim = dir / "victim";
  WriteText(victim, "precious\n");
  const std::string path = dir / "pgrt.conf";
  ASSERT_EQ(::symlink(victim.c_str(), (path + ".tmp").c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(path, "new\n", 0600).ok());
  EXPECT_EQ(ReadText(victim), "precious\n");
  EXPECT_EQ(ReadText(path), "new\n");
  EXPECT_TRUE(S_ISREG(LstatOf(path).st_mode));
  EXPECT_EQ(LstatOf(path).st_mode & 07777, 0600u);
}

TEST(WriteFileIfChanged, ALinkAtTheNameIsReplacedEvenWhenItsTargetHoldsTheSameContent) {
  ScratchDir dir;
  const std::string victim = dir / "victim";
  WriteText(victim, "same\n");
  ASSERT_EQ(::chmod(victim.c_str(), 0600), 0);
  const std::string path = dir / "pg_hba.conf";
  ASSERT_EQ(::symlink(victim.c_str(), path.c_str()), 0);
  const bool root = ::geteuid() == 0;
  const FileOwner owner{root ? 65534u : ::geteuid(), root ? 65534u : ::getegid()};
  auto changed = WriteFileIfChanged(path, "same\n", 0600, &owner);
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_TRUE(*changed);
  EXPECT_TRUE(S_ISREG(LstatOf(path).st_mode));
  EXPECT_EQ(LstatOf(path).st_uid, owner.uid);
  EXPECT_EQ(LstatOf(victim).st_uid, ::geteuid()) << "the link's target was chowned";
  // Now a regular file with that content, mode and owner: nothing to do.
  auto again = WriteFileIfChanged(path, "same\n", 0600, &owner);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
}

}  // namespace
}  // namespace pgrt
