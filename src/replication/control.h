// Replication control: pause/resume WAL replay, physical slots (a promotion is a role
// change: the node's controller makes it). Each action
// checks the role first and changes nothing when it is the wrong one. Asynchronous, on the
// loop, with deadlines.
#pragma once

#include <functional>
#include <string>

#include "pg/async_conn.h"

namespace pgrt {

enum class ControlVerb { kPause, kResume, kCreateSlot, kDropSlot };

// The OpenRuntimes PostgreSQL runtime's sentences, word for word: its clients may compare
// them (docs/compatibility.md).
inline constexpr const char* kOnlyOnReplica = "Only available on replica";
inline constexpr const char* kOnlyOnPrimary = "Only available on primary";
inline constexpr const char* kNotInRecovery = "Server is not in recovery mode";
inline constexpr const char* kInvalidSlotName =
    "Invalid slot name (use lowercase letters, numbers, underscores)";
inline constexpr const char* kPromotionInitiated =
    "Promotion initiated. Server will become primary.";

// ^[a-z0-9_]{1,63}$, as postgres itself requires of slot names.
bool ValidSlotName(const std::string& name);

// `done` gets the success message ("WAL replay paused", "Replication slot 'x' created"), or
// an error whose code says what went wrong: kInvalidArgument (bad slot name),
// kFailedPrecondition (postgres is not in the role the verb needs), kAlreadyExists,
// kNotFound, kBusy (an active slot) with postgres's own sentence, kUnavailable /
// kDeadlineExceeded (postgres cannot be asked), kInternal (postgres refused). The node's
// role (the topology) is the caller's check, made first.
void RunControl(AsyncPgConn& conn, ControlVerb verb, const std::string& slot,
                std::function<void(Result<std::string>)> done);

}  // namespace pgrt
