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

// ^[a-z0-9_]{1,63}$, as postgres itself requires of slot names.
bool ValidSlotName(const std::string& name);

// `done` gets the success message, or an error whose code says what went wrong:
// kInvalidArgument (bad slot name), kFailedPrecondition (wrong role), kAlreadyExists,
// kNotFound, kBusy (an active slot), kUnavailable / kDeadlineExceeded (postgres cannot be
// asked), kInternal (postgres refused).
void RunControl(AsyncPgConn& conn, ControlVerb verb, const std::string& slot,
                std::function<void(Result<std::string>)> done);

}  // namespace pgrt
