#include "replication/control.h"

#include <memory>

namespace pgrt {
namespace {

constexpr Millis kDeadline{10000};

using Done = std::function<void(Result<std::string>)>;

void Act(AsyncPgConn& conn, ControlVerb verb, const std::string& slot, Done done) {
  auto ran = [done](std::function<Result<std::string>(Result<AsyncPgConn::Results>)> judge) {
    return [done, judge](Result<AsyncPgConn::Results> r) { done(judge(std::move(r))); };
  };
  switch (verb) {
    case ControlVerb::kPause:
    case ControlVerb::kResume: {
      bool pause = verb == ControlVerb::kPause;
      return conn.Query(pause ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()",
                        kDeadline,
                        ran([pause](Result<AsyncPgConn::Results> r) -> Result<std::string> {
                          if (!r.ok()) return r.status();
                          return std::string(pause ? "WAL replay paused" : "WAL replay resumed");
                        }));
    }
    case ControlVerb::kCreateSlot:
      return conn.QueryParams(
          "SELECT pg_create_physical_replication_slot($1)", {slot}, kDeadline,
          ran([slot](Result<AsyncPgConn::Results> r) -> Result<std::string> {
            if (r.ok()) return "Replication slot " + slot + " created";
            if (r.status().IsAlreadyExists())
              return Status::AlreadyExists("replication slot " + slot + " already exists");
            return r.status();
          }));
    case ControlVerb::kDropSlot:
      return conn.QueryParams(
          "SELECT pg_drop_replication_slot($1)", {slot}, kDeadline,
          ran([slot](Result<AsyncPgConn::Results> r) -> Result<std::string> {
            if (r.ok()) return "Replication slot " + slot + " dropped";
            if (r.status().IsNotFound())
              return Status::NotFound("replication slot " + slot + " does not exist");
            if (r.status().IsBusy()) return Status::Busy("replication slot " + slot + " is active");
            return r.status();
          }));
  }
}

}  // namespace

bool ValidSlotName(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

void RunControl(AsyncPgConn& conn, ControlVerb verb, const std::string& slot, Done done) {
  bool slot_verb = verb == ControlVerb::kCreateSlot || verb == ControlVerb::kDropSlot;
  if (slot_verb && !ValidSlotName(slot))
    return done(Status::InvalidArgument("invalid slot name: must match ^[a-z0-9_]{1,63}$"));
  // The role first, on the same connection: the action follows in the same session.
  conn.Query("SELECT pg_is_in_recovery()", kDeadline,
             [&conn, verb, slot, slot_verb, done](Result<AsyncPgConn::Results> r) {
               if (!r.ok()) return done(Status::Unavailable("Database unavailable"));
               bool replica = (*r)[0].Get(0, 0) == "t";
               if ((verb == ControlVerb::kPause || verb == ControlVerb::kResume) && !replica)
                 return done(
                     Status::FailedPrecondition("not a replica: WAL replay runs on replicas only"));
               if (slot_verb && replica)
                 return done(
                     Status::FailedPrecondition("not a primary: slots are managed on the primary"));
               Act(conn, verb, slot, done);
             });
}

}  // namespace pgrt
