#include "process/user.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

namespace pgrt {
namespace {

Result<Credentials> FromPasswd(const struct passwd& pw) {
  Credentials c;
  c.name = pw.pw_name;
  c.uid = pw.pw_uid;
  c.gid = pw.pw_gid;
  c.home = pw.pw_dir ? pw.pw_dir : "/";
  int n = 32;
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::vector<gid_t> groups(static_cast<size_t>(n));
    int count = n;
    if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &count) >= 0) {
      groups.resize(static_cast<size_t>(count));
      c.groups = std::move(groups);
      return c;
    }
    n = count > n ? count : n * 4;
  }
  return Status::Error("groups of user " + c.name + ": too many");
}

}  // namespace

Result<Credentials> LookupUser(const std::string& name) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  int rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0) return ErrnoStatus("look up user " + name, rc);
  if (found == nullptr) return Status::Error("look up user " + name + ": no such user");
  return FromPasswd(pw);
}

Result<Credentials> CurrentUser() {
  struct passwd pw {};
  struct passwd* found = nullptr;
  std::vector<char> buf(16384);
  uid_t uid = ::geteuid();
  int rc = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
  if (rc != 0) return ErrnoStatus("look up uid " + std::to_string(uid), rc);
  if (found == nullptr) {
    // Containers run with arbitrary uids (OpenShift); a nameless account is still usable.
    Credentials c;
    c.name = std::to_string(uid);
    c.uid = uid;
    c.gid = ::getegid();
    c.home = "/";
    return c;
  }
  return FromPasswd(pw);
}

Result<Credentials> ChildCredentials(const std::string& run_as) {
  if (::geteuid() != 0) return CurrentUser();
  auto creds = LookupUser(run_as);
  if (!creds.ok()) return creds.status().Wrap("PGRT_RUN_AS");
  if (creds->uid == 0)
    return Status::Error("PGRT_RUN_AS: " + run_as + " is root; PostgreSQL must not run as root");
  return creds;
}

}  // namespace pgrt
