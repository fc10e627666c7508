#include "node/context.h"

#include <sys/stat.h>
#include <unistd.h>

namespace pgrt {

Status WriteOwnedFile(const NodeContext& ctx, const std::string& path, const std::string& content,
                      mode_t mode) {
  auto changed = WriteFileIfChanged(path, content, mode);
  if (!changed.ok()) return changed.status();
  if (::geteuid() == 0 && ::chown(path.c_str(), ctx.run_as.uid, ctx.run_as.gid) != 0)
    return ErrnoStatus("chown " + path);
  return Status::Ok();
}

Status MakeOwnedDirectory(const NodeContext& ctx, const std::string& path, mode_t mode) {
  PGRT_RETURN_IF_ERROR(MakeDirectories(path, 0755), "create directory");
  if (::geteuid() == 0 && ::chown(path.c_str(), ctx.run_as.uid, ctx.run_as.gid) != 0)
    return ErrnoStatus("chown " + path);
  if (::chmod(path.c_str(), mode) != 0) return ErrnoStatus("chmod " + path);
  return Status::Ok();
}

}  // namespace pgrt
