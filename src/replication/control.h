// Replication control: promote, pause/resume WAL replay, physical slots. Each action
// checks the role first and changes nothing when it is the wrong one.
#pragma once

#include <string>

#include "pg/connection.h"

namespace pgrt {

enum class ControlVerb { kPromote, kPause, kResume, kCreateSlot, kDropSlot };

struct ControlOutcome {
  int http_status = 200;  // 200, 201 ok; 400 wrong role or bad name; 404; 409; 500; 503
  std::string message;    // success message or error
  bool ok() const { return http_status < 300; }
};

// ^[a-z0-9_]{1,63}$, as postgres itself requires of slot names.
bool ValidSlotName(const std::string& name);

// `conn` is null when postgres cannot be reached (→ 503).
ControlOutcome RunControl(PgConn* conn, ControlVerb verb, const std::string& slot = "");

}  // namespace pgrt
