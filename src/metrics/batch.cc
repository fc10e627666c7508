#include "metrics/batch.h"

#include <poll.h>

#include <cerrno>
#include <chrono>

namespace pgrt {
namespace {

std::string Trimmed(const char* msg) {
  std::string s = msg ? msg : "unknown error";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Waits until libpq has a whole result (or the connection broke).
Status AwaitResult(PGconn* c, std::chrono::steady_clock::time_point deadline) {
  while (PQisBusy(c)) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status::Error("query timed out");
    pollfd p{PQsocket(c), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("poll");
    if (n > 0 && PQconsumeInput(c) == 0) return Status::Error(Trimmed(PQerrorMessage(c)));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<PgResult>> RunBatch(PgConn& conn, const std::string& sql, Millis timeout) {
  // Steady time, not the injected clock: this bounds a real wait on a socket.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  PGconn* c = conn.raw();
  if (PQsendQuery(c, sql.c_str()) == 0) return Status::Error(Trimmed(PQerrorMessage(c)));
  std::vector<PgResult> results;
  std::string error;
  for (;;) {
    PGRT_RETURN_IF_ERROR(AwaitResult(c, deadline), "query");
    PGresult* r = PQgetResult(c);
    if (r == nullptr) break;
    PgResult owned(r);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
      results.push_back(std::move(owned));
    } else if (error.empty()) {
      error = Trimmed(PQresultErrorMessage(r));
    }
  }
  if (!error.empty()) return Status::Error(error);
  return results;
}

}  // namespace pgrt
