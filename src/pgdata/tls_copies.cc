#include "pgdata/tls_copies.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>

#include "util/fs.h"

namespace pgrt {
namespace {

constexpr const char* kCurrent = "current";

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
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const std::string name = "set-" + std::to_string(ns);
  const std::string set = JoinPath(l.tls_dir, name);
  PGRT_RETURN_IF_ERROR(MakeOwnedDirectory(ctx, set, 0700), "TLS");
  // postgres refuses a key readable by others: the copy gets the mode it demands.
  PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx, JoinPath(set, "server.crt"), content.cert, 0644), "TLS");
  PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx, JoinPath(set, "server.key"), content.key, 0600), "TLS");
  if (!content.ca.empty())
    PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx, JoinPath(set, "ca.crt"), content.ca, 0644), "TLS");
  PGRT_RETURN_IF_ERROR(SyncDirectory(set), "TLS");
  // A relative link: PGDATA may be moved (a scratch moved into place) and stays valid.
  const std::string link = JoinPath(l.tls_dir, kCurrent);
  const std::string tmp = link + ".tmp";
  PGRT_RETURN_IF_ERROR(RemoveIfPresent(tmp), "TLS");
  if (::symlink(name.c_str(), tmp.c_str()) != 0) return ErrnoStatus("TLS: symlink " + tmp);
  if (::geteuid() == 0 && ::lchown(tmp.c_str(), ctx.run_as.uid, ctx.run_as.gid) != 0)
    return ErrnoStatus("TLS: lchown " + tmp);
  if (::rename(tmp.c_str(), link.c_str()) != 0) return ErrnoStatus("TLS: rename " + tmp);
  PGRT_RETURN_IF_ERROR(SyncDirectory(l.tls_dir), "TLS");
  // Older sets (and the flat copies of earlier versions) are read by no one now: postgres and
  // PgBouncer hold what they loaded in memory until their next reload.
  auto entries = ListDirectory(l.tls_dir);
  if (!entries.ok()) return entries.status().Wrap("TLS");
  for (const std::string& e : *entries) {
    if (e == name || e == kCurrent) continue;
    const std::string path = JoinPath(l.tls_dir, e);
    Status st = IsDirectory(path) ? RemoveTree(path) : RemoveIfPresent(path);
    // A leftover costs a few kB and is removed at the next install.
    if (!st.ok()) spdlog::warn("TLS: {}", st.message());
  }
  return true;
}

}  // namespace pgrt
