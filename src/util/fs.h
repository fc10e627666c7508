// File-system helpers: whole-file reads, atomic writes, directory checks.
// Every function reports failures as Status with the path in the message.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/status.h"

namespace pgrt {

Result<std::string> ReadFile(const std::string& path);

// The owner a file is given (by root) before it takes its name.
struct FileOwner {
  uid_t uid;
  gid_t gid;
};

// Writes to a fresh "path.tmp" (mode `mode`, owner `owner` when given), fsyncs, renames over
// `path`. A reader sees the old file or the new one, never a half-written one. Nothing is
// written or chowned through a link: a stale "path.tmp" (a link someone planted included) is
// removed and the new one created with O_EXCL | O_NOFOLLOW; owner and mode are set on the
// descriptor; the rename replaces a link at `path` rather than following it.
Status WriteFileAtomic(const std::string& path, const std::string& content, mode_t mode = 0600,
                       const FileOwner* owner = nullptr);

// Writes only when `path` is not already a regular file with this content, mode (and owner);
// returns whether it changed anything.
Result<bool> WriteFileIfChanged(const std::string& path, const std::string& content,
                                mode_t mode = 0600, const FileOwner* owner = nullptr);

bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);

// Entries of a directory, sorted, without "." and "..".
Result<std::vector<std::string>> ListDirectory(const std::string& path);

// mkdir -p, each created directory with `mode`.
Status MakeDirectories(const std::string& path, mode_t mode);

// Recursively chown a tree (lchown: links are not followed).
Status ChownTree(const std::string& path, uid_t uid, gid_t gid);

// Removes a tree pgrt itself created (scratch directories only; never user data).
Status RemoveTree(const std::string& path);

std::string JoinPath(const std::string& a, const std::string& b);

// Removes a file; one that is not there is fine.
Status RemoveIfPresent(const std::string& path);

// "YYYYmmddTHHMMSS" in UTC, for names of things moved aside.
std::string TimestampForName();
// "YYYY-mm-ddTHH:MM:SSZ", now, in UTC.
std::string IsoTimestamp();

}  // namespace pgrt
