#include "pgdata/tls_copies.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "util/fs.h"

namespace pgrt {
namespace {

constexpr const char* kCurrent = "current";
constexpr const char* kNext = "next";
constexpr const char* kOld = "old";

bool Holds(const std::string& path, const std::string& content) {
  auto text = ReadFile(path);
  return text.ok() && *text == content;
}

bool CurrentHolds(const NodeLayout& l, const TlsCopyContent& c) {
  return Holds(TlsCertCopy(l), c.cert) && Holds(TlsKeyCopy(l), c.key) &&
         (c.ca.empty() ? !PathExists(TlsCaCopy(l)) : Holds(TlsCaCopy(l), c.ca));
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : ErrnoStatus("fsync " + dir);
}

}  // namespace

std::string TlsCopyPath(const NodeLayout& layout, const char* name) {
  return JoinPath(JoinPath(layout.tls_dir, kCurrent), name);
}

Result<bool> InstallTlsCopies(const NodeContext& ctx, const TlsCopyContent& content) {
  const NodeLayout& l = ctx.layout;
  PGRT_RETURN_IF_ERROR(MakeOwnedDirectory(ctx, l.tls_dir, 0700), "TLS");
  if (CurrentHolds(l, content)) return false;
  const std::string current = JoinPath(l.tls_dir, kCurrent);
  const std::string next = JoinPath(l.tls_dir, kNext);
  PGRT_RETURN_IF_ERROR(RemoveTree(next), "TLS");  // an interrupted install's leftover
  PGRT_RETURN_IF_ERROR(MakeOwnedDirectory(ctx, next, 0700), "TLS");
  // postgres refuses a key readable by others: the copy gets the mode it demands.
  PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx, JoinPath(next, "server.crt"), content.cert, 0644),
                       "TLS");
  PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx, JoinPath(next, "server.key"), content.key, 0600), "TLS");
  if (!content.ca.empty())
    PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx, JoinPath(next, "ca.crt"), content.ca, 0644), "TLS");
  PGRT_RETURN_IF_ERROR(SyncDirectory(next), "TLS");
  if (!IsDirectory(current)) {
    if (::rename(next.c_str(), current.c_str()) != 0) return ErrnoStatus("TLS: rename " + next);
  } else if (::renameat2(AT_FDCWD, next.c_str(), AT_FDCWD, current.c_str(), RENAME_EXCHANGE) != 0) {
    // A file system without RENAME_EXCHANGE: two renames, with a moment in which no set is
    // there (a postgres starting in it fails once and is restarted).
    if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
      return ErrnoStatus("TLS: exchange " + next + " and " + current);
    const std::string old = JoinPath(l.tls_dir, kOld);
    PGRT_RETURN_IF_ERROR(RemoveTree(old), "TLS");
    if (::rename(current.c_str(), old.c_str()) != 0) return ErrnoStatus("TLS: rename " + current);
    if (::rename(next.c_str(), current.c_str()) != 0) return ErrnoStatus("TLS: rename " + next);
  }
  PGRT_RETURN_IF_ERROR(SyncDirectory(l.tls_dir), "TLS");
  // The previous set (now `next` or `old`) and the flat copies of earlier versions are read by
  // no one: postgres and PgBouncer hold what they loaded in memory until their next reload.
  auto entries = ListDirectory(l.tls_dir);
  if (!entries.ok()) return entries.status().Wrap("TLS");
  for (const std::string& e : *entries) {
    if (e == kCurrent) continue;
    const std::string path = JoinPath(l.tls_dir, e);
    Status st = IsDirectory(path) ? RemoveTree(path) : RemoveIfPresent(path);
    // A leftover costs a few kB and is removed at the next install.
    if (!st.ok()) spdlog::warn("TLS: {}", st.message());
  }
  return true;
}

}  // namespace pgrt
