#include "pgdata/data_dir.h"

#include <stdio.h>
#include <unistd.h>

#include "util/fs.h"

namespace pgrt {

Result<DataDirState> InspectDataDir(const NodeLayout& layout) {
  if (!PathExists(layout.pgdata)) return DataDirState::kEmpty;
  auto entries = ListDirectory(layout.pgdata);
  if (!entries.ok()) return entries.status().Wrap("inspect PGDATA");
  if (PathExists(JoinPath(layout.pgdata, "PG_VERSION"))) return DataDirState::kInitialized;
  bool scratch_done = PathExists(JoinPath(layout.init_scratch, kInitCompleteMarker));
  bool other = false;
  for (const auto& e : *entries) {
    if (e == "lost+found" || e == ".pgrt-init" || e.rfind(".pgrt-aside-", 0) == 0) continue;
    other = true;
  }
  if (scratch_done) return DataDirState::kReadyToMove;  // `other` are its half-moved entries
  return other ? DataDirState::kForeign : DataDirState::kEmpty;
}

Status MoveScratchIntoPlace(const NodeLayout& layout) {
  auto entries = ListDirectory(layout.init_scratch);
  if (!entries.ok()) return entries.status().Wrap("move initialized cluster into place");
  auto move = [&](const std::string& name) -> Status {
    std::string from = JoinPath(layout.init_scratch, name);
    std::string to = JoinPath(layout.pgdata, name);
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename " + from + " " + to);
    return Status::Ok();
  };
  for (const auto& e : *entries) {
    if (e == "PG_VERSION" || e == kInitCompleteMarker) continue;
    PGRT_RETURN_IF_ERROR(move(e), "move initialized cluster into place");
  }
  if (PathExists(JoinPath(layout.init_scratch, "PG_VERSION")))
    PGRT_RETURN_IF_ERROR(move("PG_VERSION"), "move initialized cluster into place");
  ::unlink(JoinPath(layout.init_scratch, kInitCompleteMarker).c_str());
  if (::rmdir(layout.init_scratch.c_str()) != 0)
    return ErrnoStatus("remove " + layout.init_scratch);
  return Status::Ok();
}

}  // namespace pgrt
