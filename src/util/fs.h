// File-system helpers: whole-file reads, atomic writes, directory checks.
// Every function reports failures as Status with the path in the message.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/status.h"

namespace pgrt {

Result<std::string> ReadFile(const std::string& path);

// Writes to "path.tmp" (mode `mode`), fsyncs, renames over `path`. A reader sees the
// old file or the new one, never a half-written one.
Status WriteFileAtomic(const std::string& path, const std::string& content, mode_t mode = 0600);

// Writes only when the content differs; returns whether it changed anything.
Result<bool> WriteFileIfChanged(const std::string& path, const std::string& content,
                                mode_t mode = 0600);

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

// "YYYYmmddTHHMMSS" in UTC, for names of things moved aside.
std::string TimestampForName();

}  // namespace pgrt
