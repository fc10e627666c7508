#include "pgdata/private_dir.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "util/fs.h"

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

Result<UniqueFd> UnnamedSecretFile(const NodeContext& ctx, const std::string& dir,
                                   const std::string& content) {
  UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    char tmpl[4096];
    std::snprintf(tmpl, sizeof tmpl, "%s/secret-XXXXXX", dir.c_str());
    fd.reset(::mkostemp(tmpl, O_CLOEXEC));
    if (fd && ::unlink(tmpl) != 0) return ErrnoStatus(std::string("unlink ") + tmpl);
  }
  if (!fd) return ErrnoStatus("create an unnamed file in " + dir);
  if (::geteuid() == 0 && ::fchown(fd.get(), ctx.run_as.uid, ctx.run_as.gid) != 0)
    return ErrnoStatus("chown an unnamed file in " + dir);
  if (::fchmod(fd.get(), 0600) != 0) return ErrnoStatus("chmod an unnamed file in " + dir);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + off, content.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write an unnamed file in " + dir);
    off += static_cast<size_t>(n);
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return ErrnoStatus("rewind an unnamed file");
  return fd;
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
