// StatementsReport: the top statements by total execution time, from pg_stat_statements,
// for GET /__opr/statements and the status page. On the loop, over a kept connection of its
// own with a deadline; reports asked for while one is out share its answer.
//
// What is shown: only plannable statements (SELECT, INSERT, UPDATE, DELETE, MERGE, WITH,
// VALUES, TABLE), whose text pg_stat_statements normalizes (every constant becomes $1, $2,
// …), with comments removed. Utility statements (CREATE ROLE … PASSWORD '…', COPY, DO, …)
// keep their constants in PostgreSQL 15, so their text is never shown: they are counted in
// `hidden` and in the totals. With that, nothing in the report is secret and the route needs
// no token (docs/status-page.md).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pg/async_conn.h"
#include "process/event_loop.h"

namespace pgrt {

class StatementsReport {
 public:
  static constexpr size_t kMaxLimit = 100;
  static constexpr size_t kMaxTextBytes = 2000;  // a longer text is cut, with "…"

  StatementsReport(ConnParams postgres, EventLoop& loop);
  StatementsReport(const StatementsReport&) = delete;
  StatementsReport& operator=(const StatementsReport&) = delete;

  // {available, reason?, statements: [...] (at most `limit`), hidden, totals}, or an error
  // when postgres cannot be asked.
  void Top(size_t limit, std::function<void(Result<nlohmann::json>)> done);

 private:
  void Read(const std::string& schema);
  void Finish(Result<nlohmann::json> report);

  AsyncPgConn conn_;
  struct Waiter {
    size_t limit;
    std::function<void(Result<nlohmann::json>)> done;
  };
  std::vector<Waiter> waiting_;
};

// The text of a normalized statement as the report shows it: comments removed, white space
// collapsed, cut at kMaxTextBytes; nullopt for a statement that is not plannable (its
// constants may be in its text).
std::optional<std::string> ShowableStatementText(std::string_view normalized);

// The report from the answer of kStatementsReportSql's statement (ordered by total time).
nlohmann::json StatementsReportJson(const PgResult& rows, size_t limit);

}  // namespace pgrt
