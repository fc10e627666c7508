#include "idle/reuseport.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>

namespace pgrt {
namespace {

// Owned by root or by this process's user, and writable by nobody else.
Status CheckTrusted(const std::string& path, const struct stat& st) {
  const uid_t self = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != self)
    return Status::FailedPrecondition(path + " is owned by uid " + std::to_string(st.st_uid));
  // A sticky directory (/tmp) lets others add entries, but not rename or remove this
  // process's or root's: what lies below stays as its owner made it.
  const bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) != 0;
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && !sticky_dir)
    return Status::FailedPrecondition(path + " is writable by others");
  return Status::Ok();
}

Status CheckShim(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus(path);
  if (!S_ISREG(st.st_mode)) return Status::FailedPrecondition(path + " is not a regular file");
  if (Status t = CheckTrusted(path, st); !t.ok()) return t;
  if ((st.st_mode & S_IROTH) == 0)
    return Status::FailedPrecondition(path + " is not readable by postgres's account");
  // Every directory up to / : trusted, and open to postgres's account.
  std::string dir = path.substr(0, path.rfind('/'));
  while (!dir.empty()) {
    if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus(dir);
    if (Status t = CheckTrusted(dir, st); !t.ok()) return t;
    if ((st.st_mode & S_IXOTH) == 0)
      return Status::FailedPrecondition(dir + " is not searchable by postgres's account");
    dir = dir.substr(0, dir.rfind('/'));
  }
  return Status::Ok();
}

// A socket of `family` created as `owner` (its fsuid for the moment of socket()).
Result<UniqueFd> SocketOwnedBy(int family, uid_t owner) {
  if (::geteuid() == owner)
    return UniqueFd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const uid_t before = static_cast<uid_t>(::setfsuid(owner));
  // setfsuid reports the previous value only: asking again tells whether it took.
  const bool took = static_cast<uid_t>(::setfsuid(owner)) == owner;
  UniqueFd fd;
  int err = 0;
  if (took) {
    fd.reset(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    err = errno;
  }
  ::setfsuid(before);
  if (static_cast<uid_t>(::setfsuid(before)) != before)
    return Status::Error("setfsuid: cannot return to uid " + std::to_string(before));
  if (!took) return Status::FailedPrecondition("setfsuid(" + std::to_string(owner) + ") failed");
  if (!fd) return ErrnoStatus("socket", err);
  return fd;
}

Status SetOptions(int fd, int family, bool reuseport) {
  int yes = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0)
    return ErrnoStatus("SO_REUSEADDR");
  if (reuseport && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes) != 0)
    return ErrnoStatus("SO_REUSEPORT");
  if (family == AF_INET6 && ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof yes) != 0)
    return ErrnoStatus("IPV6_V6ONLY");
  return Status::Ok();
}

}  // namespace

Result<std::string> FindReuseportShim() {
  char exe[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return ErrnoStatus("/proc/self/exe");
  const std::string bin(exe, static_cast<size_t>(n));
  const std::string dir = bin.substr(0, bin.rfind('/'));
  std::string reasons;
  for (const std::string& candidate :
       {dir + "/lib/pgrt/" + kShimFileName, dir + "/../lib/pgrt/" + kShimFileName}) {
    char real[PATH_MAX];
    if (::realpath(candidate.c_str(), real) == nullptr) {
      reasons += (reasons.empty() ? "" : "; ") + candidate + ": " + std::strerror(errno);
      continue;
    }
    Status st = CheckShim(real);
    if (st.ok()) return std::string(real);
    reasons += (reasons.empty() ? "" : "; ") + st.message();
  }
  return Status::NotFound("no usable " + std::string(kShimFileName) + ": " + reasons);
}

Result<UniqueFd> ListenInReuseportGroup(const sockaddr* addr, socklen_t len, uid_t owner,
                                        int backlog) {
  const int family = addr->sa_family;
  {
    // Someone listening there already (another node, a stray postgres) would otherwise be
    // joined silently: a plain bind must succeed first, as it does for postgres.
    UniqueFd probe(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!probe) return ErrnoStatus("socket");
    if (Status st = SetOptions(probe.get(), family, false); !st.ok()) return st;
    if (::bind(probe.get(), addr, len) != 0) return ErrnoStatus("bind");
  }
  auto fd = SocketOwnedBy(family, owner);
  if (!fd.ok()) return fd.status();
  if (Status st = SetOptions(fd->get(), family, true); !st.ok()) return st;
  if (::bind(fd->get(), addr, len) != 0) return ErrnoStatus("bind");
  if (::listen(fd->get(), backlog) != 0) return ErrnoStatus("listen");
  {
    // postgres's socket will be `owner`'s: one such socket must be able to join now.
    auto peer = SocketOwnedBy(family, owner);
    if (!peer.ok()) return peer.status();
    if (Status st = SetOptions(peer->get(), family, true); !st.ok()) return st;
    if (::bind(peer->get(), addr, len) != 0) return ErrnoStatus("a second member cannot bind");
  }
  if (Status st = SteerReuseportGroup(fd->get(), kSteerToPgrt); !st.ok()) return st;
  return fd;
}

Status SteerReuseportGroup(int fd, uint32_t index) {
  sock_filter code[] = {BPF_STMT(BPF_RET | BPF_K, index)};
  sock_fprog prog{};
  prog.len = 1;
  prog.filter = code;
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) != 0)
    return ErrnoStatus("SO_ATTACH_REUSEPORT_CBPF");
  return Status::Ok();
}

}  // namespace pgrt
