// What PGDATA holds (InspectDataDir) and moving a finished initialization into place.
#include "pgdata/data_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "pgdata/layout.h"
#include "scratch_dir.h"

namespace pgrt {
namespace {

namespace fs = std::filesystem;
using test::ReadText;
using test::ScratchDir;
using test::WriteText;

const char* Name(DataDirState s) {
  switch (s) {
    case DataDirState::kEmpty:
      return "kEmpty";
    case DataDirState::kInitialized:
      return "kInitialized";
    case DataDirState::kReadyToMove:
      return "kReadyToMove";
    case DataDirState::kForeign:
      return "kForeign";
  }
  return "?";
}

NodeLayout LayoutIn(const ScratchDir& dir) {
  Config c;
  c.pgdata = dir / "data";
  return NodeLayout::From(c);
}

TEST(InspectDataDir, ClassifiesWhatPgdataHolds) {
  struct Case {
    std::string name;
    std::vector<std::string> files;  // under PGDATA; a trailing '/' makes a directory
    bool create_pgdata;
    DataDirState expected;
  };
  const std::string marker = std::string(".pgrt-init/") + kInitCompleteMarker;
  const Case kCases[] = {
      {"missing", {}, false, DataDirState::kEmpty},
      {"empty", {}, true, DataDirState::kEmpty},
      {"lost+found only (a fresh mount)", {"lost+found/"}, true, DataDirState::kEmpty},
      {"a cluster", {"PG_VERSION", "base/", "global/"}, true, DataDirState::kInitialized},
      {"a cluster beside other files",
       {"PG_VERSION", "notes.txt"},
       true,
       DataDirState::kInitialized},
      {"foreign files", {"notes.txt"}, true, DataDirState::kForeign},
      {"a foreign directory", {"backup/"}, true, DataDirState::kForeign},
      {"a hidden foreign file", {".DS_Store"}, true, DataDirState::kForeign},
      {"foreign files beside lost+found",
       {"lost+found/", "dump.sql"},
       true,
       DataDirState::kForeign},
      {"unfinished scratch",
       {".pgrt-init/PG_VERSION", ".pgrt-init/base/"},
       true,
       DataDirState::kEmpty},
      {"unfinished scratch beside foreign files",
       {".pgrt-init/base/", "dump.sql"},
       true,
       DataDirState::kForeign},
      {"finished scratch",
       {".pgrt-init/PG_VERSION", ".pgrt-init/base/", marker},
       true,
       DataDirState::kReadyToMove},
      {"finished scratch, half moved",
       {".pgrt-init/PG_VERSION", "base/", "global/", marker},
       true,
       DataDirState::kReadyToMove},
      {"foreign data moved aside",
       {".pgrt-aside-20260101T000000/PG_VERSION"},
       true,
       DataDirState::kEmpty},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    ScratchDir dir;
    NodeLayout layout = LayoutIn(dir);
    if (c.create_pgdata) fs::create_directories(layout.pgdata);
    for (const std::string& f : c.files) {
      std::string path = layout.pgdata + "/" + f;
      if (f.back() == '/')
        fs::create_directories(path);
      else
        WriteText(path, "x");
    }
    auto state = InspectDataDir(layout);
    ASSERT_TRUE(state.ok()) << state.status().message();
    EXPECT_EQ(Name(*state), Name(c.expected));
  }
}

TEST(InspectDataDir, FailsWhenPgdataIsNotADirectory) {
  ScratchDir dir;
  NodeLayout layout = LayoutIn(dir);
  WriteText(layout.pgdata, "not a directory");
  auto state = InspectDataDir(layout);
  ASSERT_FALSE(state.ok());
  EXPECT_NE(state.status().message().find("inspect PGDATA"), std::string::npos)
      << state.status().message();
}

// A finished initialization in the scratch directory, as initialize.cc leaves it.
void WriteFinishedScratch(const NodeLayout& layout) {
  WriteText(layout.init_scratch + "/PG_VERSION", "15\n");
  WriteText(layout.init_scratch + "/base/1/1259", "relation");
  WriteText(layout.init_scratch + "/global/pg_control", "control");
  WriteText(layout.init_scratch + "/postgresql.conf", "include_if_exists = 'pgrt.conf'\n");
  WriteText(layout.init_scratch + "/" + kInitCompleteMarker, "");
}

TEST(MoveScratchIntoPlace, MovesEveryEntryAndRemovesTheScratch) {
  ScratchDir dir;
  NodeLayout layout = LayoutIn(dir);
  WriteFinishedScratch(layout);
  ASSERT_EQ(Name(*InspectDataDir(layout)), Name(DataDirState::kReadyToMove));

  Status st = MoveScratchIntoPlace(layout);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(ReadText(layout.pgdata + "/PG_VERSION"), "15\n");
  EXPECT_EQ(ReadText(layout.pgdata + "/base/1/1259"), "relation");
  EXPECT_EQ(ReadText(layout.pgdata + "/global/pg_control"), "control");
  EXPECT_TRUE(fs::exists(layout.pgdata + "/postgresql.conf"));
  EXPECT_FALSE(fs::exists(layout.pgdata + "/" + kInitCompleteMarker)) << "marker moved along";
  EXPECT_FALSE(fs::exists(layout.init_scratch));
  EXPECT_EQ(Name(*InspectDataDir(layout)), Name(DataDirState::kInitialized));
}

TEST(MoveScratchIntoPlace, FinishesAnInterruptedMove) {
  ScratchDir dir;
  NodeLayout layout = LayoutIn(dir);
  WriteFinishedScratch(layout);
  // The previous attempt died after moving base/.
  fs::rename(layout.init_scratch + "/base", layout.pgdata + "/base");
  ASSERT_EQ(Name(*InspectDataDir(layout)), Name(DataDirState::kReadyToMove));

  Status st = MoveScratchIntoPlace(layout);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(fs::exists(layout.pgdata + "/base/1/1259"));
  EXPECT_TRUE(fs::exists(layout.pgdata + "/global/pg_control"));
  EXPECT_TRUE(fs::exists(layout.pgdata + "/PG_VERSION"));
  EXPECT_FALSE(fs::exists(layout.init_scratch));
}

TEST(MoveScratchIntoPlace, MovesPgVersionOnlyAfterEverythingElse) {
  // "PG_VERSION" sorts before every lower-case entry; a move that fails on a later entry
  // must still leave PGDATA without it, so the next start finishes the move instead of
  // taking a half-moved cluster for a complete one.
  ScratchDir dir;
  NodeLayout layout = LayoutIn(dir);
  WriteFinishedScratch(layout);
  WriteText(layout.init_scratch + "/zz_blocked/file", "new");
  WriteText(layout.pgdata + "/zz_blocked/occupied", "old");  // rename onto it fails

  Status st = MoveScratchIntoPlace(layout);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("move initialized cluster into place: rename"), std::string::npos)
      << st.message();
  EXPECT_FALSE(fs::exists(layout.pgdata + "/PG_VERSION"));
  EXPECT_TRUE(fs::exists(layout.init_scratch + "/PG_VERSION"));
  EXPECT_EQ(Name(*InspectDataDir(layout)), Name(DataDirState::kReadyToMove));
}

TEST(MoveScratchIntoPlace, FailsWithoutAScratchDirectory) {
  ScratchDir dir;
  NodeLayout layout = LayoutIn(dir);
  fs::create_directories(layout.pgdata);
  Status st = MoveScratchIntoPlace(layout);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find(".pgrt-init"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace pgrt
