#include "pgdata/context.h"

#include <sys/stat.h>
#include <unistd.h>

namespace pgrt {

Status WriteOwnedFile(const NodeContext& ctx, const std::string& path, const std::string& content,
                      mode_t mode) {
  // Owner and mode are set on the new file's descriptor before it takes its name: the
  // run-as account owns the directories these files live in, and a link it put in their
  // place must not lead root's write or chown elsewhere.
  const FileOwner owner{ctx.run_as.uid, ctx.run_as.gid};
  return WriteFileIfChanged(path, content, mode, ::geteuid() == 0 ? &owner : nullptr).status();
}

DirRequest RunAsDirectory(const NodeContext& ctx, DirUse use, mode_t mode) {
  return DirRequest{use, mode, ctx.run_as.uid, ctx.run_as.gid, ::geteuid() == 0};
}

Status MakeOwnedDirectory(const NodeContext& ctx, const std::string& path, mode_t mode) {
  return EnsureDirectory(path, RunAsDirectory(ctx, DirUse::kPrivate, mode)).status();
}

Status MakeSharedDirectory(const NodeContext& ctx, const std::string& path, mode_t mode) {
  return EnsureDirectory(path, RunAsDirectory(ctx, DirUse::kShared, mode)).status();
}

}  // namespace pgrt
