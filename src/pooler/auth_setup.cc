#include "pooler/auth_setup.h"

#include <optional>

#include "pooler/pgbouncer_files.h"

namespace pgrt {
namespace {

// The lookup itself: the secret postgres would check, or NULL once VALID UNTIL has passed.
// search_path is pinned so a caller's objects cannot stand in for pg_catalog's.
constexpr const char* kFunctionBody =
    "SELECT s.usename, CASE WHEN s.valuntil < now() THEN NULL ELSE s.passwd END"
    " FROM pg_catalog.pg_shadow s WHERE s.usename = p_usename";

std::string InstallSql() {
  const std::string role = kPoolerAuthRole;
  const std::string fn = kPoolerAuthFunction;
  return "BEGIN;"
         "CREATE SCHEMA IF NOT EXISTS pgrt_pgbouncer;"
         "REVOKE ALL ON SCHEMA pgrt_pgbouncer FROM PUBLIC;"
         "GRANT USAGE ON SCHEMA pgrt_pgbouncer TO " +
         role +
         ";"
         "CREATE OR REPLACE FUNCTION " +
         fn +
         "(p_usename text)"
         " RETURNS TABLE (usename name, passwd text) LANGUAGE sql STABLE SECURITY DEFINER"
         " SET search_path = pg_catalog, pg_temp AS $pgrt$" +
         kFunctionBody +
         "$pgrt$;"
         "REVOKE ALL ON FUNCTION " +
         fn +
         "(text) FROM PUBLIC;"
         "GRANT EXECUTE ON FUNCTION " +
         fn + "(text) TO " + role +
         ";"
         "COMMIT";
}

Status EnsureRole(PgConn& conn) {
  auto r = conn.ExecParams(
      "SELECT rolcanlogin AND rolpassword IS NULL AND NOT rolsuper FROM pg_authid"
      " WHERE rolname = $1",
      {std::string(kPoolerAuthRole)});
  if (!r.ok()) return r.status();
  const std::string role = kPoolerAuthRole;
  if (r->rows() == 0) return conn.Exec("CREATE ROLE " + role + " LOGIN").status();
  if (r->Get(0, 0) == "t") return Status::Ok();
  // Someone gave it a password or more rights: back to what the design relies on.
  return conn.Exec("ALTER ROLE " + role + " LOGIN NOSUPERUSER PASSWORD NULL").status();
}

// Installs the function unless this database already has it as pgrt would write it.
Status EnsureFunction(PgConn& conn) {
  PGRT_RETURN_IF_ERROR(conn.Exec("SET synchronous_commit = local"), "set-up");
  auto r = conn.ExecParams(
      "SELECT prosrc = $1 AND prosecdef FROM pg_proc"
      " WHERE oid = to_regprocedure($2 || '(text)')",
      {std::string(kFunctionBody), std::string(kPoolerAuthFunction)});
  if (!r.ok()) return r.status();
  if (r->rows() == 1 && r->Get(0, 0) == "t") return Status::Ok();
  auto installed = conn.Exec(InstallSql());
  if (!installed.ok()) {
    conn.Exec("ROLLBACK").status().IgnoreError();  // no transaction left is fine too
    return installed.status();
  }
  return Status::Ok();
}

}  // namespace

Status SetUpPoolerAuth(PgConn& conn, const ConnParams& base) {
  PGRT_RETURN_IF_ERROR(conn.Exec("SET synchronous_commit = local"), "pooler set-up");
  PGRT_RETURN_IF_ERROR(EnsureRole(conn), "pooler set-up: role " + std::string(kPoolerAuthRole));
  auto dbs = conn.Exec("SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1");
  if (!dbs.ok()) return dbs.status().Wrap("pooler set-up: list databases");
  const std::string own_db = base.count("dbname") ? base.at("dbname") : "";
  for (int i = 0; i < dbs->rows(); ++i) {
    const std::string db = dbs->Get(i, 0);
    const std::string context = "pooler set-up: database \"" + db + "\"";
    if (db == own_db) {
      PGRT_RETURN_IF_ERROR(EnsureFunction(conn), context);
      continue;
    }
    ConnParams params = base;
    params["dbname"] = db;
    auto other = PgConn::Connect(params);
    if (!other.ok()) return other.status().Wrap(context);
    PGRT_RETURN_IF_ERROR(EnsureFunction(*other), context);
  }
  return Status::Ok();
}

Result<bool> PoolerAuthInstalled(PgConn& conn) {
  auto r = conn.ExecParams("SELECT to_regprocedure($1 || '(text)') IS NOT NULL",
                           {std::string(kPoolerAuthFunction)});
  if (!r.ok()) return r.status();
  return r->Get(0, 0) == "t";
}

}  // namespace pgrt
