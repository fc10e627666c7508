#include "replication/control.h"

#include <memory>
#include <string_view>

namespace pgrt {
namespace {

constexpr Millis kDeadline{10000};

using Done = std::function<void(Result<std::string>)>;

// postgres's own sentence ('replication slot "x" already exists'), as node-postgres gives
// it: without libpq's "ERROR:  " and without DETAIL or HINT lines.
std::string PostgresMessage(const Status& st) {
  std::string m = st.message();
  constexpr std::string_view kError = "ERROR:";
  if (m.rfind(kError, 0) == 0) m.erase(0, kError.size());
  m.erase(0, m.find_first_not_of(' '));
  return m.substr(0, m.find('\n'));
}

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
      return conn.QueryParams("SELECT pg_create_physical_replication_slot($1)", {slot}, kDeadline,
                              ran([slot](Result<AsyncPgConn::Results> r) -> Result<std::string> {
                                if (r.ok()) return "Replication slot '" + slot + "' created";
                                return Status::Make(r.status().code(), PostgresMessage(r.status()));
                              }));
    case ControlVerb::kDropSlot:
      return conn.QueryParams("SELECT pg_drop_replication_slot($1)", {slot}, kDeadline,
                              ran([slot](Result<AsyncPgConn::Results> r) -> Result<std::string> {
                                if (r.ok()) return "Replication slot '" + slot + "' dropped";
                                return Status::Make(r.status().code(), PostgresMessage(r.status()));
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
  if (slot_verb && !ValidSlotName(slot)) return done(Status::InvalidArgument(kInvalidSlotName));
  // The role first, on the same connection: the action follows in the same session.
  conn.Query("SELECT pg_is_in_recovery()", kDeadline,
             [&conn, verb, slot, slot_verb, done](Result<AsyncPgConn::Results> r) {
               if (!r.ok()) return done(Status::Unavailable("Database unavailable"));
               bool replica = (*r)[0].Get(0, 0) == "t";
               if ((verb == ControlVerb::kPause || verb == ControlVerb::kResume) && !replica)
                 return done(Status::FailedPrecondition(kNotInRecovery));
               if (slot_verb && replica) return done(Status::FailedPrecondition(kOnlyOnPrimary));
               Act(conn, verb, slot, done);
             });
}

}  // namespace pgrt
