#include "replication/primary_setup.h"

namespace pgrt {

Status SetUpPrimary(PgConn& conn, const Config& c) {
  PGRT_RETURN_IF_ERROR(conn.Exec("SET synchronous_commit = local"), "primary set-up");
  auto ident = conn.QuoteIdent(c.replication_user);
  if (!ident.ok()) return ident.status();
  // The verifier is computed here, so the password itself never reaches the server's
  // statement log or pg_stat_activity.
  char* verifier = PQencryptPasswordConn(conn.raw(), c.replication_password.c_str(),
                                         c.replication_user.c_str(), "scram-sha-256");
  if (verifier == nullptr) return Status::Error("primary set-up: encrypt password");
  std::string v = verifier;
  PQfreemem(verifier);
  auto literal = conn.QuoteLiteral(v);
  if (!literal.ok()) return literal.status();

  auto exists = conn.ExecParams("SELECT 1 FROM pg_roles WHERE rolname = $1", {c.replication_user});
  if (!exists.ok()) return exists.status().Wrap("primary set-up");
  const std::string verb = exists->rows() == 0 ? "CREATE" : "ALTER";
  auto r = conn.Exec(verb + " ROLE " + *ident + " WITH REPLICATION LOGIN PASSWORD " + *literal);
  if (!r.ok()) return r.status().Wrap("primary set-up: replication role");

  // With PGRT_HA the leader changes: replicas stream without the configured slot (a slot
  // nobody reads would keep WAL forever).
  if (!c.replication_slot_name.empty() && !c.ha_enabled()) {
    auto slot = conn.ExecParams(
        "SELECT pg_create_physical_replication_slot($1) WHERE NOT EXISTS "
        "(SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
        {c.replication_slot_name});
    if (!slot.ok()) return slot.status().Wrap("primary set-up: slot");
  }
  return Status::Ok();
}

}  // namespace pgrt
