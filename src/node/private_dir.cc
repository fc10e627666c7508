#include "node/private_dir.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/unique_fd.h"

namespace pgrt {

Result<PrivateDir> PrivateDir::Create(const NodeContext& ctx) {
  char tmpl[] = "/tmp/pgrt-init-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return ErrnoStatus("create private directory");
  PrivateDir d(tmpl);
  if (::geteuid() == 0 && ::chown(tmpl, ctx.run_as.uid, ctx.run_as.gid) != 0)
    return ErrnoStatus(std::string("chown ") + tmpl);
  return d;
}

PrivateDir::~PrivateDir() {
  if (!path_.empty()) RemoveTree(path_).IgnoreError();  // a leftover in /tmp is harmless
}

Status PrepareScratch(const NodeContext& ctx) {
  const std::string& scratch = ctx.layout.init_scratch;
  if (PathExists(scratch)) {
    spdlog::warn("discarding an unfinished initialization in {}", scratch);
    PGRT_RETURN_IF_ERROR(RemoveTree(scratch), "scratch");
  }
  return MakeOwnedDirectory(ctx, scratch, 0700);
}

Status SyncFileSystem(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoStatus("open " + path);
  if (::syncfs(fd.get()) != 0) return ErrnoStatus("syncfs " + path);
  return Status::Ok();
}

}  // namespace pgrt
