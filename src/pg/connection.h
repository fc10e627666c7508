// PgConn and PgResult: RAII over libpq. Connections are made with keyword/value arrays
// (PQconnectdbParams), so no password is ever formatted into a conninfo string, and every
// identifier or literal pgrt puts into SQL is quoted by libpq itself.
#pragma once

#include <libpq-fe.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace pgrt {

// libpq connection keywords: host, port, user, password, dbname, connect_timeout, ...
using ConnParams = std::map<std::string, std::string>;

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  int cols() const { return PQnfields(r_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string Get(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
  std::optional<std::string> GetOpt(int row, int col) const {
    if (IsNull(row, col)) return std::nullopt;
    return Get(row, col);
  }
  std::string ColumnName(int col) const { return PQfname(r_.get(), col); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

class PgConn {
 public:
  static Result<PgConn> Connect(const ConnParams& params);
  // Owns a connection made elsewhere (a non-blocking connect on the loop).
  static PgConn Adopt(PGconn* c) { return PgConn(c); }

  // Runs one or more statements (simple protocol); the last result is returned.
  Result<PgResult> Exec(const std::string& sql);
  // One statement with $1.. parameters sent out of band (text format).
  Result<PgResult> ExecParams(const std::string& sql,
                              const std::vector<std::optional<std::string>>& params);

  // "quoted" identifier / 'quoted' literal, escaped by libpq for this connection's encoding.
  Result<std::string> QuoteIdent(std::string_view name);
  Result<std::string> QuoteLiteral(std::string_view value);

  bool ok() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }
  int server_version() const { return PQserverVersion(conn_.get()); }
  PGconn* raw() { return conn_.get(); }

 private:
  explicit PgConn(PGconn* c) : conn_(c, &PQfinish) {}
  Status LastError(std::string_view context) const;
  Result<PgResult> Check(PGresult* raw) const;

  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// The code of a server error's SQLSTATE (duplicate object → AlreadyExists, ...): the one
// place SQLSTATEs become codes.
StatusCode CodeOfSqlState(std::string_view sqlstate);
// The error a failed result carries, with its code.
Status ResultStatus(const PGresult* r);

// PQpingParams: is a server accepting connections at these parameters?
bool PingAccepting(const ConnParams& params);

}  // namespace pgrt
