#include "pg/connection.h"

#include "pg/libpq_args.h"
#include "util/loop_thread.h"

namespace pgrt {

StatusCode CodeOfSqlState(std::string_view sqlstate) {
  if (sqlstate == "42710" || sqlstate == "42P04" || sqlstate == "42P07" || sqlstate == "23505")
    return StatusCode::kAlreadyExists;  // duplicate object, database, table; unique violation
  if (sqlstate == "42704" || sqlstate == "3D000" || sqlstate == "42P01")
    return StatusCode::kNotFound;                     // undefined object, database, table
  if (sqlstate == "55006") return StatusCode::kBusy;  // object in use
  if (sqlstate == "55000" || sqlstate == "25006")
    return StatusCode::kFailedPrecondition;  // wrong state, read-only transaction
  if (sqlstate == "57014") return StatusCode::kDeadlineExceeded;  // statement_timeout, cancel
  if (sqlstate.substr(0, 2) == "08" || sqlstate == "57P01" || sqlstate == "57P02" ||
      sqlstate == "57P03")
    return StatusCode::kUnavailable;  // connection exceptions, shutdown, cannot connect now
  if (sqlstate.substr(0, 2) == "28" || sqlstate == "42501") return StatusCode::kPermissionDenied;
  if (sqlstate == "53100") return StatusCode::kIoError;  // disk full
  if (sqlstate.substr(0, 2) == "22" || sqlstate.substr(0, 2) == "42")
    return StatusCode::kInvalidArgument;  // data exceptions, syntax errors
  return StatusCode::kInternal;
}

Status ResultStatus(const PGresult* r) {
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  return Status::Make(CodeOfSqlState(state ? state : ""), TrimmedError(PQresultErrorMessage(r)));
}

Result<PgConn> PgConn::Connect(const ConnParams& params) {
  PGRT_ASSERT_OFF_LOOP("PgConn::Connect");
  KeywordArrays kw(params);
  PGconn* raw = PQconnectdbParams(kw.keys.data(), kw.values.data(), 0);
  if (raw == nullptr) return Status::Error("connect: out of memory");
  PgConn conn(raw);
  if (PQstatus(raw) != CONNECTION_OK)
    return Status::Unavailable("connect: " + TrimmedError(PQerrorMessage(raw)));
  return conn;
}

Status PgConn::LastError(std::string_view context) const {
  return Status::Error(std::string(context) + ": " + TrimmedError(PQerrorMessage(conn_.get())));
}

Result<PgResult> PgConn::Exec(const std::string& sql) {
  PGRT_ASSERT_OFF_LOOP("PgConn::Exec");
  return Check(PQexec(conn_.get(), sql.c_str()));
}

Result<PgResult> PgConn::Check(PGresult* raw) const {
  // No result at all: the connection broke.
  if (raw == nullptr)
    return Status::Unavailable("query: " + TrimmedError(PQerrorMessage(conn_.get())));
  PgResult r(raw);
  ExecStatusType st = PQresultStatus(raw);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return r;
  return ResultStatus(raw);
}

Result<PgResult> PgConn::ExecParams(const std::string& sql,
                                    const std::vector<std::optional<std::string>>& params) {
  PGRT_ASSERT_OFF_LOOP("PgConn::ExecParams");
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return Check(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, 0));
}

Result<std::string> PgConn::QuoteIdent(std::string_view name) {
  char* q = PQescapeIdentifier(conn_.get(), name.data(), name.size());
  if (q == nullptr) return LastError("quote identifier");
  std::string out(q);
  PQfreemem(q);
  return out;
}

Result<std::string> PgConn::QuoteLiteral(std::string_view value) {
  char* q = PQescapeLiteral(conn_.get(), value.data(), value.size());
  if (q == nullptr) return LastError("quote literal");
  std::string out(q);
  PQfreemem(q);
  return out;
}

bool PingAccepting(const ConnParams& params) {
  PGRT_ASSERT_OFF_LOOP("PingAccepting");
  KeywordArrays kw(params);
  return PQpingParams(kw.keys.data(), kw.values.data(), 0) == PQPING_OK;
}

}  // namespace pgrt
