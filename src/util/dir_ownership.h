// Which directories pgrt may take over, decided before anything changes.
//
// Started as root, pgrt hands directories to the account postgres runs as. It changes the
// owner or mode only of a directory it creates, of an empty one (a fresh volume: nothing but
// lost+found), or of one that already holds a cluster it recognises (PG_VERSION, or its own
// scratch .pgrt-init). Any other directory is used as it is when that account can already
// use it (a sticky, world-writable socket directory), or refused with the reason.
//
// Nothing is changed through a symbolic link: the directory is opened with O_NOFOLLOW,
// inspected through that descriptor and changed through it (fchown, fchmod), so what was
// inspected is what changes. A link is followed only to see whether its target is usable
// as it is.
#pragma once

#include <sys/types.h>

#include <string>

#include "util/status.h"

namespace pgrt {

// How the run-as account uses a directory.
enum class DirUse {
  kPrivate,  // its own (PGDATA, WAL, runtime files): it owns it, nobody else may write
  kShared,   // it only creates entries there (sockets, dump files): write access suffices
};

struct DirRequest {
  DirUse use = DirUse::kPrivate;
  mode_t mode = 0700;  // of a directory pgrt creates, or adopts in a mode the account cannot use
  uid_t uid = 0;       // the run-as account
  gid_t gid = 0;
  bool can_chown = false;  // pgrt runs as root
};

// A directory seen without following a link at its last component.
struct DirFacts {
  enum class Kind { kMissing, kDirectory, kSymlink, kOther };
  Kind kind = Kind::kMissing;
  // kDirectory: the directory's own; kSymlink: its target's, when that is a directory.
  bool target_is_directory = false;
  uid_t uid = 0;
  gid_t gid = 0;
  mode_t mode = 0;
  bool empty = false;          // nothing but lost+found
  bool holds_cluster = false;  // PG_VERSION or .pgrt-init
};

enum class DirAction {
  kCreate,   // missing: created with the request's owner and mode
  kAdopt,    // empty or holding a cluster: given to the account (top directory only)
  kUseAsIs,  // the account can use it already: nothing changes
  kRefuse,   // nothing changes; the reason says why
};

struct DirDecision {
  DirAction action = DirAction::kRefuse;
  std::string reason;  // kRefuse only
};

// Whether the run-as account can use a directory of that owner and mode as it is.
bool DirectoryUsable(uid_t uid, gid_t gid, mode_t mode, const DirRequest& request);

// The decision alone: no I/O.
DirDecision DecideDirectory(const DirFacts& facts, const DirRequest& request);

// Inspects `path`, decides, acts. A refusal is an error carrying the reason.
Result<DirAction> EnsureDirectory(const std::string& path, const DirRequest& request);

const char* ToString(DirAction action);

}  // namespace pgrt
