// What a dead postmaster of this cluster leaves behind, and ending it before a new start.
//
// A backend busy in a long query does not notice that its postmaster died (kill -9 of the
// postmaster, or of pgrt, which takes the postmaster with it through PDEATHSIG). It keeps
// the cluster's shared memory attached, and a new postmaster refuses to start ("pre-existing
// shared memory block is still in use"). Backends call setsid(), so they are not in the
// postmaster's process group, and after a kill -9 of pgrt they are not even pgrt's children.
//
// Leftovers are recognised by what postmaster.pid in PGDATA records, never by a process
// name: processes of the run-as account that are in the old postmaster's process group and
// work in PGDATA, or that have the System V segment named on line 7 (key and id) attached —
// /proc/PID/maps shows it as `/SYSV<key in hex>` with the id in the inode column. A postmaster of
// this PGDATA that still runs is never touched: another pgrt (or pg_ctl) owns the cluster.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "process/event_loop.h"
#include "util/status.h"

namespace pgrt {

// What postmaster.pid says about the postmaster that wrote it.
struct LockFileFacts {
  pid_t postmaster = 0;
  std::string datadir;
  std::optional<long> shm_key;  // line 7: "key id"; absent before postgres created it
  std::optional<long> shm_id;
};
// nullopt when the text holds no postmaster pid on line 1.
std::optional<LockFileFacts> ParseLockFile(const std::string& text);

// Whether a /proc/PID/maps text has the System V segment (key, id) attached.
bool MapsAttachSegment(const std::string& maps, long key, long id);

// The System V segment `id` with `key` still exists (/proc/sysvipc/shm), with how many
// processes attach it; nullopt when it is gone (or another segment has that id now).
std::optional<int> SegmentAttachCount(const std::string& sysvipc_shm, long key, long id);

// A process, told apart from a later one that reuses its pid by its start time.
struct ProcessId {
  pid_t pid = 0;
  unsigned long long start_time = 0;  // clock ticks after boot (/proc/PID/stat field 22)
};

// True when the postmaster of `facts` runs now: alive, of account `owner`, working in
// `datadir` (a postmaster chdirs to its data directory; a reused pid does not).
bool PostmasterRuns(const LockFileFacts& facts, const std::string& datadir, uid_t owner);

// Live processes of account `owner` (pgrt itself excepted) that the postmaster of `facts`
// left: attached to its shared memory segment, or in its process group and working in
// `datadir`.
std::vector<ProcessId> FindLeftovers(const LockFileFacts& facts, const std::string& datadir,
                                     uid_t owner);

// Alive (not a zombie) and still the same process.
bool StillRunning(const ProcessId& p);

struct LeftoverCleanup {
  std::string datadir;
  uid_t owner = 0;
  Millis grace{1000};         // after SIGTERM, then SIGKILL
  Millis kill_timeout{5000};  // after SIGKILL, then give up
  Millis poll{10};            // how often liveness is looked at
};

// Ends the leftovers of this PGDATA's previous postmaster and calls `done` once none is
// left: SIGTERM, SIGKILL after the grace period, all of it on loop timers (nothing waits).
// `done` runs at once when there is nothing to end; an error when a postmaster of this
// PGDATA still runs, or when a leftover outlived the kill timeout.
void EndLeftovers(EventLoop& loop, const LeftoverCleanup& how, std::function<void(Status)> done);

}  // namespace pgrt
