#include "metrics/statements_report.h"

#include <cctype>

namespace pgrt {
namespace {

constexpr Millis kDeadline{3000};
// Rows read per report: the top of the list by total time, enough to fill kMaxLimit after
// the statements that are not shown.
constexpr int kRowsRead = 500;

// Where pg_stat_statements lives, when it is created in this database and actually loaded.
constexpr const char* kFindSql =
    "SELECT (SELECT quote_ident(n.nspname) FROM pg_extension e"
    " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'),"
    " current_setting('shared_preload_libraries') ~ "
    "'(^|[\\s,\"])pg_stat_statements([\\s,\"]|$)'";

std::string ReadSql(const std::string& schema) {
  // `schema` comes quoted by the server (quote_ident above). The totals are over every
  // top-level statement, computed before the LIMIT.
  return "SELECT s.query, s.calls, s.total_exec_time, s.mean_exec_time, s.rows, d.datname,"
         " r.rolname, s.queryid::text, count(*) OVER (), sum(s.calls) OVER (),"
         " sum(s.total_exec_time) OVER () FROM " +
         schema +
         ".pg_stat_statements s LEFT JOIN pg_database d ON d.oid = s.dbid"
         " LEFT JOIN pg_roles r ON r.oid = s.userid WHERE s.toplevel"
         " ORDER BY s.total_exec_time DESC LIMIT " +
         std::to_string(kRowsRead);
}

ConnParams ReportParams(ConnParams p) {
  p["connect_timeout"] = "2";
  p["application_name"] = "pgrt-statements";
  p["options"] = "-c statement_timeout=" + std::to_string(kDeadline.count());
  return p;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The statement kinds pg_stat_statements normalizes (their constants become $n).
bool IsPlannable(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (text[i] == '(' || text[i] == ' ')) ++i;
  size_t end = i;
  while (end < text.size() && IsWordChar(text[end])) ++end;
  std::string word;
  for (size_t k = i; k < end; ++k) word += static_cast<char>(std::tolower(text[k]));
  for (const char* kind :
       {"select", "insert", "update", "delete", "merge", "with", "values", "table"})
    if (word == kind) return true;
  return false;
}

nlohmann::json Number(const PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return nullptr;
  return std::stod(r.Get(row, col));
}

nlohmann::json Text(const PgResult& r, int row, int col) {
  if (r.IsNull(row, col)) return nullptr;
  return r.Get(row, col);
}

int64_t Integer(const PgResult& r, int row, int col) {
  return r.IsNull(row, col) ? 0 : std::stoll(r.Get(row, col));
}

}  // namespace

std::optional<std::string> ShowableStatementText(std::string_view q) {
  std::string out;
  bool space = false;  // white space (or a comment) seen since the last character kept
  auto keep = [&](char c) {
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  };
  for (size_t i = 0; i < q.size();) {
    const char c = q[i];
    if (c == '-' && i + 1 < q.size() && q[i + 1] == '-') {  // a comment to the end of the line
      while (i < q.size() && q[i] != '\n') ++i;
      space = true;
    } else if (c == '/' && i + 1 < q.size() && q[i + 1] == '*') {  // comments nest in SQL
      int depth = 0;
      do {
        if (q.compare(i, 2, "/*") == 0) {
          ++depth;
          i += 2;
        } else if (q.compare(i, 2, "*/") == 0) {
          --depth;
          i += 2;
        } else {
          ++i;
        }
      } while (depth > 0 && i < q.size());
      space = true;
    } else if (c == '"') {  // a quoted identifier, kept as it is ("" inside is a quote)
      size_t end = i + 1;
      while (end < q.size() && !(q[end] == '"' && (end + 1 >= q.size() || q[end + 1] != '"')))
        end += q[end] == '"' ? 2 : 1;
      for (size_t k = i; k <= end && k < q.size(); ++k) keep(q[k]);
      i = end + 1;
    } else if (c == '\'') {
      return std::nullopt;  // a literal: normalization left this text alone
    } else if (c == '$' && i + 1 < q.size() &&
               !std::isdigit(static_cast<unsigned char>(q[i + 1])) &&
               (i == 0 || !IsWordChar(q[i - 1]))) {
      return std::nullopt;  // a dollar-quoted literal ($$…$$, $tag$…$tag$), likewise
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      ++i;
    } else {
      keep(c);
      ++i;
    }
  }
  if (!IsPlannable(out)) return std::nullopt;
  if (out.size() > StatementsReport::kMaxTextBytes) {
    size_t cut = StatementsReport::kMaxTextBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    out = out.substr(0, cut) + "…";
  }
  return out;
}

nlohmann::json StatementsReportJson(const PgResult& r, size_t limit) {
  nlohmann::json statements = nlohmann::json::array();
  int64_t hidden = 0;
  for (int i = 0; i < r.rows() && statements.size() < limit; ++i) {
    auto text = ShowableStatementText(r.Get(i, 0));
    if (!text) {
      ++hidden;
      continue;
    }
    statements.push_back({{"query", *text},
                          {"calls", Integer(r, i, 1)},
                          {"totalTimeMs", Number(r, i, 2)},
                          {"meanTimeMs", Number(r, i, 3)},
                          {"rows", Integer(r, i, 4)},
                          {"database", Text(r, i, 5)},
                          {"user", Text(r, i, 6)},
                          {"queryId", Text(r, i, 7)}});
  }
  nlohmann::json totals = {{"statements", 0}, {"calls", 0}, {"totalTimeMs", 0}};
  if (r.rows() > 0)
    totals = {{"statements", Integer(r, 0, 8)},
              {"calls", Integer(r, 0, 9)},
              {"totalTimeMs", Number(r, 0, 10)}};
  return {{"available", true}, {"statements", statements}, {"hidden", hidden}, {"totals", totals}};
}

StatementsReport::StatementsReport(ConnParams postgres, EventLoop& loop)
    : conn_(loop, ReportParams(std::move(postgres))) {}

void StatementsReport::Top(size_t limit, std::function<void(Result<nlohmann::json>)> done) {
  waiting_.push_back({std::min(limit, kMaxLimit), std::move(done)});
  if (waiting_.size() > 1) return;  // one is out: this request shares its answer
  conn_.Query(kFindSql, kDeadline, [this](Result<AsyncPgConn::Results> r) {
    if (!r.ok()) return Finish(r.status().Wrap("pg_stat_statements"));
    const PgResult& row = (*r)[0];
    if (row.rows() != 1) return Finish(Status::Error("pg_stat_statements: unexpected answer"));
    if (row.IsNull(0, 0))
      return Finish(
          nlohmann::json{{"available", false},
                         {"reason",
                          "the pg_stat_statements extension is not created in this database: "
                          "CREATE EXTENSION pg_stat_statements"}});
    if (row.Get(0, 1) != "t")
      return Finish(
          nlohmann::json{{"available", false},
                         {"reason", "pg_stat_statements is not in shared_preload_libraries"}});
    Read(row.Get(0, 0));
  });
}

void StatementsReport::Read(const std::string& schema) {
  conn_.Query(ReadSql(schema), kDeadline, [this](Result<AsyncPgConn::Results> r) {
    if (!r.ok()) return Finish(r.status().Wrap("pg_stat_statements"));
    // The widest report asked for; each waiter gets its own length below.
    Finish(StatementsReportJson(r->back(), kMaxLimit));
  });
}

void StatementsReport::Finish(Result<nlohmann::json> report) {
  std::vector<Waiter> waiting;
  waiting.swap(waiting_);
  for (Waiter& w : waiting) {
    if (!report.ok() || !report->contains("statements")) {
      w.done(report);
      continue;
    }
    nlohmann::json mine = *report;
    auto& list = mine["statements"];
    if (list.size() > w.limit) list.erase(list.begin() + static_cast<long>(w.limit), list.end());
    w.done(std::move(mine));
  }
}

}  // namespace pgrt
