#include "api/db_probe.h"

namespace pgrt {

template <typename F>
Result<PgResult> DbProbe::WithConnection(F&& f) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!conn_ || !conn_->ok()) {
      conn_.reset();
      auto c = PgConn::Connect(params_);
      if (!c.ok()) return c.status();
      conn_.emplace(std::move(*c));
    }
    auto r = f(*conn_);
    if (r.ok() || conn_->ok()) return r;  // a query error on a live connection is final
  }
  return Status::Error("connection lost");
}

Result<PgResult> DbProbe::Query(const std::string& sql) {
  return WithConnection([&](PgConn& c) { return c.Exec(sql); });
}

Result<PgResult> DbProbe::QueryParams(const std::string& sql,
                                      const std::vector<std::optional<std::string>>& params) {
  return WithConnection([&](PgConn& c) { return c.ExecParams(sql, params); });
}

void DbProbe::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  conn_.reset();
}

}  // namespace pgrt
