#include "util/dir_ownership.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "util/fs.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

constexpr int kOpenDir = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string Describe(uid_t uid, gid_t gid, mode_t mode) {
  return "owned by uid " + std::to_string(uid) + ", gid " + std::to_string(gid) + ", mode " +
         OctalMode(mode);
}

// A trailing slash makes the kernel follow a link at the last component, O_NOFOLLOW or not.
std::string WithoutTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

struct Inspected {
  DirFacts facts;
  UniqueFd fd;  // kDirectory: the directory inspected, to act on
};

bool HasEntryOfType(int dir_fd, const char* name, mode_t type) {
  struct stat st {};
  return ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == type;
}

Status ReadContents(int dir_fd, const std::string& path, DirFacts& facts) {
  // A descriptor of its own: readdir moves the offset of the one it is given.
  int list_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (list_fd < 0) return ErrnoStatus("open " + path);
  DIR* d = ::fdopendir(list_fd);
  if (d == nullptr) {
    Status st = ErrnoStatus("list " + path);
    ::close(list_fd);
    return st;
  }
  facts.empty = true;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != ".." && name != "lost+found") facts.empty = false;
  }
  ::closedir(d);
  facts.holds_cluster = HasEntryOfType(dir_fd, "PG_VERSION", S_IFREG) ||
                        HasEntryOfType(dir_fd, ".pgrt-init", S_IFDIR);
  return Status::Ok();
}

Result<Inspected> Inspect(const std::string& path) {
  Inspected in;
  in.fd.reset(::open(path.c_str(), kOpenDir));
  if (!in.fd) {
    const int open_errno = errno;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return in;  // kMissing
      return ErrnoStatus("inspect " + path);
    }
    if (S_ISLNK(st.st_mode)) {
      in.facts.kind = DirFacts::Kind::kSymlink;
      struct stat target {};
      if (::stat(path.c_str(), &target) == 0 && S_ISDIR(target.st_mode)) {
        in.facts.target_is_directory = true;
        in.facts.uid = target.st_uid;
        in.facts.gid = target.st_gid;
        in.facts.mode = target.st_mode & 07777;
      }
      return in;
    }
    if (!S_ISDIR(st.st_mode)) {
      in.facts.kind = DirFacts::Kind::kOther;
      return in;
    }
    return ErrnoStatus("open " + path, open_errno);
  }
  struct stat st {};
  if (::fstat(in.fd.get(), &st) != 0) return ErrnoStatus("stat " + path);
  in.facts.kind = DirFacts::Kind::kDirectory;
  in.facts.uid = st.st_uid;
  in.facts.gid = st.st_gid;
  in.facts.mode = st.st_mode & 07777;
  PGRT_RETURN_IF_ERROR(ReadContents(in.fd.get(), path, in.facts), "inspect");
  return in;
}

Status Adopt(int fd, const std::string& path, const DirFacts& f, const DirRequest& r) {
  uid_t uid = f.uid;
  gid_t gid = f.gid;
  if (r.can_chown && (uid != r.uid || gid != r.gid)) {
    if (::fchown(fd, r.uid, r.gid) != 0) return ErrnoStatus("chown " + path);
    uid = r.uid;
    gid = r.gid;
  }
  if (!DirectoryUsable(uid, gid, f.mode, r) && ::fchmod(fd, r.mode) != 0)
    return ErrnoStatus("chmod " + path);
  return Status::Ok();
}

// Creates the last component (parents as root's 0755, traversable by everyone) and gives it
// to the account. false: it appeared meanwhile, inspect again.
Result<bool> Create(const std::string& path, const DirRequest& r) {
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0)
    PGRT_RETURN_IF_ERROR(MakeDirectories(path.substr(0, slash), 0755), "create");
  if (::mkdir(path.c_str(), 0700) != 0) {  // closed to others until its mode is set
    if (errno == EEXIST) return false;
    return ErrnoStatus("mkdir " + path);
  }
  UniqueFd fd(::open(path.c_str(), kOpenDir));
  if (!fd) return ErrnoStatus("open " + path);
  if (r.can_chown && ::fchown(fd.get(), r.uid, r.gid) != 0) return ErrnoStatus("chown " + path);
  if (::fchmod(fd.get(), r.mode) != 0) return ErrnoStatus("chmod " + path);
  return true;
}

}  // namespace

bool DirectoryUsable(uid_t uid, gid_t gid, mode_t mode, const DirRequest& r) {
  if (r.use == DirUse::kPrivate)  // postgres's rule for PGDATA: 0700, or 0750 for group reads
    return uid == r.uid && (mode & 0700) == 0700 && (mode & 0027) == 0;
  // The permission class that applies, as the kernel picks it (supplementary groups aside).
  const mode_t needed = uid == r.uid ? 0300 : gid == r.gid ? 0030 : 0003;
  return (mode & needed) == needed;
}

DirDecision DecideDirectory(const DirFacts& f, const DirRequest& r) {
  using Kind = DirFacts::Kind;
  switch (f.kind) {
    case Kind::kMissing:
      return {DirAction::kCreate, ""};
    case Kind::kOther:
      return {DirAction::kRefuse, "exists and is not a directory"};
    case Kind::kSymlink:
      if (f.target_is_directory && DirectoryUsable(f.uid, f.gid, f.mode, r))
        return {DirAction::kUseAsIs, ""};
      return {DirAction::kRefuse,
              "is a symbolic link" +
                  (f.target_is_directory ? " to a directory " + Describe(f.uid, f.gid, f.mode)
                                         : std::string(" to no directory")) +
                  ", which the run-as account (uid " + std::to_string(r.uid) +
                  ") cannot use as it is; pgrt changes nothing through a link: point the "
                  "variable at the directory itself, or give that directory to the account"};
    case Kind::kDirectory:
      break;
  }
  if (DirectoryUsable(f.uid, f.gid, f.mode, r)) return {DirAction::kUseAsIs, ""};
  const std::string what = Describe(f.uid, f.gid, f.mode);
  if (f.empty || f.holds_cluster) {
    if (r.can_chown || f.uid == r.uid) return {DirAction::kAdopt, ""};
    return {DirAction::kRefuse, "is " + what +
                                    "; pgrt, not running as root, cannot give it to uid " +
                                    std::to_string(r.uid)};
  }
  return {DirAction::kRefuse,
          "holds files but no PostgreSQL cluster (no PG_VERSION) and is " + what +
              ", which the run-as account (uid " + std::to_string(r.uid) +
              ") cannot use as it is; pgrt changes the owner or mode only of a directory it "
              "creates, an empty one or one holding its cluster: give it to the account, "
              "empty it or choose another directory"};
}

Result<DirAction> EnsureDirectory(const std::string& given, const DirRequest& r) {
  const std::string path = WithoutTrailingSlashes(given);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto in = Inspect(path);
    if (!in.ok()) return in.status();
    DirDecision d = DecideDirectory(in->facts, r);
    switch (d.action) {
      case DirAction::kRefuse:
        return Status::Error(path + " " + d.reason);
      case DirAction::kUseAsIs:
        return d.action;
      case DirAction::kAdopt:
        PGRT_RETURN_IF_ERROR(Adopt(in->fd.get(), path, in->facts, r), "adopt");
        return d.action;
      case DirAction::kCreate: {
        auto created = Create(path, r);
        if (!created.ok()) return created.status();
        if (*created) return d.action;
        break;  // created by someone else meanwhile: decide on what is there now
      }
    }
  }
  return Status::Error(path + " appeared and disappeared while pgrt was creating it");
}

const char* ToString(DirAction action) {
  switch (action) {
    case DirAction::kCreate:
      return "create";
    case DirAction::kAdopt:
      return "adopt";
    case DirAction::kUseAsIs:
      return "use as is";
    case DirAction::kRefuse:
      return "refuse";
  }
  return "?";
}

}  // namespace pgrt
