#include "replication/control.h"

namespace pgrt {
namespace {

ControlOutcome Fail(int status, std::string message) { return {status, std::move(message)}; }

}  // namespace

bool ValidSlotName(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

ControlOutcome RunControl(PgConn* conn, ControlVerb verb, const std::string& slot) {
  bool slot_verb = verb == ControlVerb::kCreateSlot || verb == ControlVerb::kDropSlot;
  if (slot_verb && !ValidSlotName(slot))
    return Fail(400, "invalid slot name: must match ^[a-z0-9_]{1,63}$");
  if (conn == nullptr) return Fail(503, "Database unavailable");
  auto rec = conn->Exec("SELECT pg_is_in_recovery()");
  if (!rec.ok()) return Fail(503, "Database unavailable");
  bool replica = rec->Get(0, 0) == "t";

  switch (verb) {
    case ControlVerb::kPromote: {
      if (!replica) return Fail(400, "not a replica: this node is already a primary");
      auto r = conn->Exec("SELECT pg_promote(true, 60)");
      if (!r.ok()) return Fail(500, "promote failed: " + r.status().message());
      if (r->Get(0, 0) != "t") return Fail(500, "promote did not finish within 60 s");
      return {200, "Replica promoted to primary"};
    }
    case ControlVerb::kPause:
    case ControlVerb::kResume: {
      if (!replica) return Fail(400, "not a replica: WAL replay runs on replicas only");
      bool pause = verb == ControlVerb::kPause;
      auto r = conn->Exec(pause ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()");
      if (!r.ok()) return Fail(500, r.status().message());
      return {200, pause ? "WAL replay paused" : "WAL replay resumed"};
    }
    case ControlVerb::kCreateSlot: {
      if (replica) return Fail(400, "not a primary: slots are managed on the primary");
      auto r = conn->ExecParams("SELECT pg_create_physical_replication_slot($1)", {slot});
      if (!r.ok()) {
        if (r.status().IsAlreadyExists())
          return Fail(409, "replication slot " + slot + " already exists");
        return Fail(500, r.status().message());
      }
      return {201, "Replication slot " + slot + " created"};
    }
    case ControlVerb::kDropSlot: {
      if (replica) return Fail(400, "not a primary: slots are managed on the primary");
      auto r = conn->ExecParams("SELECT pg_drop_replication_slot($1)", {slot});
      if (!r.ok()) {
        if (r.status().IsNotFound())
          return Fail(404, "replication slot " + slot + " does not exist");
        if (r.status().IsBusy()) return Fail(409, "replication slot " + slot + " is active");
        return Fail(500, r.status().message());
      }
      return {200, "Replication slot " + slot + " dropped"};
    }
  }
  return Fail(500, "unknown action");
}

}  // namespace pgrt
