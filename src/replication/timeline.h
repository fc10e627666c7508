// Whether a replica's data forked from a new primary's history. A promotion starts a new
// timeline at a switch point on its parent; a replica that replayed (or received) WAL of the
// parent past that point holds a history the new primary never had: postgres refuses to
// follow it ("new timeline forked off current database system timeline before current
// recovery point") and only pg_rewind (or a new clone) makes it a replica again. The answer
// comes from the replication protocol: IDENTIFY_SYSTEM on both sides (on a standby it gives
// the replay timeline and the newest WAL it holds) and TIMELINE_HISTORY on the primary.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pg/connection.h"
#include "process/event_loop.h"
#include "util/status.h"

namespace pgrt {

// One line of a timeline history file: timeline `parent` ended at `switchpoint`.
struct TimelineSwitch {
  uint32_t parent = 0;
  uint64_t switchpoint = 0;
};

Result<uint64_t> ParseWalPosition(std::string_view text);  // "0/3000148"
std::string FormatWalPosition(uint64_t lsn);
// The lines of a history file ("1\t0/3000148\tno recovery target specified"); comments and
// blank lines skipped.
Result<std::vector<TimelineSwitch>> ParseTimelineHistory(std::string_view text);

// Where a node stands: its timeline and the newest WAL position it holds on it.
struct WalPoint {
  uint32_t timeline = 0;
  uint64_t lsn = 0;
};

struct ForkVerdict {
  bool rewind = false;
  std::string why;  // for the log and the transition
};

// The decision for a replica at `local` that is to follow a primary on `primary_timeline`
// with history `history` (empty for timeline 1 or an equal timeline): a rewind is needed when
// the replica's timeline is newer, missing from the primary's history, or when it holds WAL
// of the parent timeline past the switch point.
ForkVerdict JudgeFork(const WalPoint& local, uint32_t primary_timeline,
                      const std::vector<TimelineSwitch>& history);

// Asks the local standby (`local`: a connection it accepts for replication) and the new
// primary (`primary`, likewise) over the replication protocol, on the loop, and judges.
// `done` runs once on the loop; an error when either could not be asked within `deadline`.
void CheckFork(EventLoop& loop, ConnParams local, ConnParams primary, Millis deadline,
               std::function<void(Result<ForkVerdict>)> done);

}  // namespace pgrt
