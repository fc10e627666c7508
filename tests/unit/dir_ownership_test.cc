// Which directories pgrt may take over: the decision table, then EnsureDirectory on real
// directories (as root it also changes owners, as in CI).
#include "util/dir_ownership.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "scratch_dir.h"

namespace pgrt {
namespace {

using test::ScratchDir;
using test::WriteText;
using Kind = DirFacts::Kind;

constexpr uid_t kPostgres = 999;
constexpr gid_t kPostgresGroup = 999;
constexpr uid_t kOther = 1234;

DirRequest Private(bool root = true) {
  return DirRequest{DirUse::kPrivate, 0700, kPostgres, kPostgresGroup, root};
}
DirRequest Shared(bool root = true) {
  return DirRequest{DirUse::kShared, 0755, kPostgres, kPostgresGroup, root};
}

DirFacts Dir(uid_t uid, gid_t gid, mode_t mode, bool empty, bool cluster = false) {
  DirFacts f;
  f.kind = Kind::kDirectory;
  f.uid = uid;
  f.gid = gid;
  f.mode = mode;
  f.empty = empty;
  f.holds_cluster = cluster;
  return f;
}

DirFacts Link(bool to_directory, uid_t uid, mode_t mode) {
  DirFacts f;
  f.kind = Kind::kSymlink;
  f.target_is_directory = to_directory;
  f.uid = uid;
  f.gid = uid;
  f.mode = mode;
  return f;
}

DirFacts Facts(Kind kind) {
  DirFacts f;
  f.kind = kind;
  return f;
}

struct Case {
  const char* what;
  DirFacts facts;
  DirRequest request;
  DirAction expected;
};

TEST(DecideDirectory, TakesOverOnlyWhatItCreatesWhatIsEmptyOrWhatHoldsItsCluster) {
  const std::vector<Case> cases = {
      {"missing: created", Facts(Kind::kMissing), Private(), DirAction::kCreate},
      {"a file: refused", Facts(Kind::kOther), Private(), DirAction::kRefuse},
      {"already the account's, 0700: used as is", Dir(kPostgres, kPostgresGroup, 0700, false),
       Private(), DirAction::kUseAsIs},
      {"already the account's, 0750 (group reads): used as is",
       Dir(kPostgres, kPostgresGroup, 0750, false), Private(), DirAction::kUseAsIs},
      {"the account's but world-readable, with a cluster: adopted (mode fixed)",
       Dir(kPostgres, kPostgresGroup, 0755, false, true), Private(), DirAction::kAdopt},
      {"root's empty volume: adopted", Dir(0, 0, 0755, true), Private(), DirAction::kAdopt},
      {"root's volume holding a cluster: adopted", Dir(0, 0, 0700, false, true), Private(),
       DirAction::kAdopt},
      {"someone else's files: refused", Dir(kOther, kOther, 0750, false), Private(),
       DirAction::kRefuse},
      {"root's files (/etc): refused", Dir(0, 0, 0755, false), Private(), DirAction::kRefuse},
      {"the account's files but open to others, no cluster: refused",
       Dir(kPostgres, kPostgresGroup, 0777, false), Private(), DirAction::kRefuse},
      {"not root: someone else's empty directory cannot be given away",
       Dir(kOther, kOther, 0755, true), Private(false), DirAction::kRefuse},
      {"not root: its own empty directory gets its mode",
       Dir(kPostgres, kPostgresGroup, 0755, true), Private(false), DirAction::kAdopt},
      {"link to the account's directory: used as is", Link(true, kPostgres, 0700), Private(),
       DirAction::kUseAsIs},
      {"link to someone else's directory: refused", Link(true, kOther, 0700), Private(),
       DirAction::kRefuse},
      {"link to root's empty-looking directory: refused, never chowned through",
       Link(true, 0, 0755), Private(), DirAction::kRefuse},
      {"dangling link: refused", Link(false, 0, 0), Private(), DirAction::kRefuse},
      {"shared: sticky world-writable (/tmp-like): used as is", Dir(0, 0, 01777, true), Shared(),
       DirAction::kUseAsIs},
      {"shared: group-writable for the account's group: used as is",
       Dir(0, kPostgresGroup, 02775, false), Shared(), DirAction::kUseAsIs},
      {"shared: the account's own: used as is", Dir(kPostgres, kPostgresGroup, 0700, false),
       Shared(), DirAction::kUseAsIs},
      {"shared: root's empty 0755: adopted", Dir(0, 0, 0755, true), Shared(), DirAction::kAdopt},
      {"shared: root's 0755 with files: refused", Dir(0, 0, 0755, false), Shared(),
       DirAction::kRefuse},
      {"shared: other's group-writable, other group: refused", Dir(kOther, kOther, 0775, false),
       Shared(), DirAction::kRefuse},
      {"shared: owner class applies even when others may write",
       Dir(kPostgres, kPostgresGroup, 0507, false), Shared(), DirAction::kRefuse},
      {"shared: link to a sticky world-writable directory: used as is", Link(true, 0, 01777),
       Shared(), DirAction::kUseAsIs},
  };
  for (const Case& c : cases) {
    DirDecision d = DecideDirectory(c.facts, c.request);
    EXPECT_EQ(ToString(d.action), std::string(ToString(c.expected))) << c.what;
    EXPECT_EQ(d.reason.empty(), d.action != DirAction::kRefuse) << c.what << ": " << d.reason;
  }
}

TEST(DecideDirectory, ARefusalSaysWhoOwnsTheDirectoryAndWhy) {
  DirDecision d = DecideDirectory(Dir(kOther, kOther, 0750, false), Private());
  EXPECT_NE(d.reason.find("no PostgreSQL cluster"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("uid 1234"), std::string::npos) << d.reason;
  EXPECT_NE(d.reason.find("mode 0750"), std::string::npos) << d.reason;
  DirDecision link = DecideDirectory(Link(true, 0, 0755), Private());
  EXPECT_NE(link.reason.find("symbolic link"), std::string::npos) << link.reason;
}

struct stat StatOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

// The request for the account running the test, or for `nobody`'s ids when root.
DirRequest RealRequest(DirUse use, mode_t mode) {
  const bool root = ::geteuid() == 0;
  return DirRequest{use, mode, root ? 65534u : ::geteuid(), root ? 65534u : ::getegid(), root};
}

TEST(EnsureDirectory, CreatesAMissingDirectoryWithItsParentsOwnerAndMode) {
  ScratchDir dir;
  const std::string path = dir / "a/b/data";
  DirRequest r = RealRequest(DirUse::kPrivate, 0700);
  auto action = EnsureDirectory(path + "/", r);
  ASSERT_TRUE(action.ok()) << action.status().message();
  EXPECT_EQ(*action, DirAction::kCreate);
  struct stat st = StatOf(path);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, r.uid);
  EXPECT_EQ(st.st_gid, r.gid);
}

TEST(EnsureDirectory, AdoptsAnEmptyDirectoryButRefusesForeignFilesLeavingThemAsTheyWere) {
  if (::geteuid() != 0) GTEST_SKIP() << "changing owners needs root, as in CI";
  ScratchDir dir;
  const std::string empty = dir / "empty";
  ASSERT_EQ(::mkdir(empty.c_str(), 0755), 0);
  auto adopted = EnsureDirectory(empty, RealRequest(DirUse::kPrivate, 0700));
  ASSERT_TRUE(adopted.ok()) << adopted.status().message();
  EXPECT_EQ(*adopted, DirAction::kAdopt);
  EXPECT_EQ(StatOf(empty).st_uid, 65534u);
  EXPECT_EQ(StatOf(empty).st_mode & 07777, 0700u);

  const std::string foreign = dir / "foreign";
  WriteText(foreign + "/keep.txt", "mine\n");
  ASSERT_EQ(::chown(foreign.c_str(), 4321, 4321), 0);
  ASSERT_EQ(::chmod(foreign.c_str(), 0750), 0);
  auto refused = EnsureDirectory(foreign, RealRequest(DirUse::kPrivate, 0700));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(foreign), std::string::npos);
  EXPECT_EQ(StatOf(foreign).st_uid, 4321u);
  EXPECT_EQ(StatOf(foreign).st_mode & 07777, 0750u);
}

TEST(EnsureDirectory, NeverChangesAnythingThroughASymbolicLink) {
  if (::geteuid() != 0) GTEST_SKIP() << "changing owners needs root, as in CI";
  ScratchDir dir;
  const std::string target = dir / "target";
  ASSERT_EQ(::mkdir(target.c_str(), 0755), 0);  // empty: adopted if reached directly
  const std::string link = dir / "link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto r = EnsureDirectory(link, RealRequest(DirUse::kPrivate, 0700));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("symbolic link"), std::string::npos);
  EXPECT_EQ(StatOf(target).st_uid, 0u);
  EXPECT_EQ(StatOf(target).st_mode & 07777, 0755u);
  EXPECT_TRUE(S_ISLNK(StatOf(link).st_mode));
  // A trailing slash would make the kernel follow the link: it is dropped first.
  auto slash = EnsureDirectory(link + "//", RealRequest(DirUse::kPrivate, 0700));
  EXPECT_FALSE(slash.ok());
  EXPECT_EQ(StatOf(target).st_uid, 0u);
}

TEST(EnsureDirectory, UsesAStickyWorldWritableDirectoryAsItIs) {
  ScratchDir dir;
  const std::string shared = dir / "shared";
  ASSERT_EQ(::mkdir(shared.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(shared.c_str(), 01777), 0);
  const uid_t owner = StatOf(shared).st_uid;
  auto r = EnsureDirectory(shared, RealRequest(DirUse::kShared, 0755));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, DirAction::kUseAsIs);
  EXPECT_EQ(StatOf(shared).st_mode & 07777, 01777u);
  EXPECT_EQ(StatOf(shared).st_uid, owner);
}

}  // namespace
}  // namespace pgrt
