// Scratch space for start-up work: a private directory (password files, temporary sockets)
// and the scratch directory inside PGDATA where a new cluster is built.
#pragma once

#include <string>

#include "pgdata/context.h"
#include "util/unique_fd.h"

namespace pgrt {

// A 0700 directory of the run-as account under /tmp, removed when the owner goes out of
// scope, however the work ended.
class PrivateDir {
 public:
  static Result<PrivateDir> Create(const NodeContext& ctx);
  PrivateDir(PrivateDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;
  ~PrivateDir();
  const std::string& path() const { return path_; }

 private:
  explicit PrivateDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

// A file holding `content` (a password) with no name in any directory, readable by the
// run-as account only, positioned at its start: a child reads it as its stdin through
// /dev/stdin (initdb --pwfile=/dev/stdin). Made with O_TMPFILE in `dir`, or, where the file
// system cannot, created and unlinked at once; either way a kill -9 of pgrt leaves no file
// with the secret behind: it is freed when the last descriptor closes.
Result<UniqueFd> UnnamedSecretFile(const NodeContext& ctx, const std::string& dir,
                                   const std::string& content);

// An empty PGDATA/.pgrt-init owned by the run-as account. An unfinished one left by an
// earlier attempt is ours and was never a live cluster: it is discarded.
Status PrepareScratch(const NodeContext& ctx);

// syncfs() of the file system holding `path`: one flush instead of initdb's or
// pg_basebackup's file-by-file fsync, with the same durability once it returns.
Status SyncFileSystem(const std::string& path);

}  // namespace pgrt
