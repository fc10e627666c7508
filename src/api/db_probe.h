// DbProbe: the API's connection to its own postgres, over the local socket. One cached
// connection shared by the API threads (requests that need postgres are rare and short);
// a broken connection is dropped and made again on the next query.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "pg/connection.h"

namespace pgrt {

class DbProbe {
 public:
  explicit DbProbe(ConnParams params) : params_(std::move(params)) {}

  // Runs `sql` (read-only queries of state); one reconnect attempt on a dead connection.
  Result<PgResult> Query(const std::string& sql);
  // Runs a statement whose parameters are sent out of band.
  Result<PgResult> QueryParams(const std::string& sql,
                               const std::vector<std::optional<std::string>>& params);
  // Runs `f` with the connection (nullptr when postgres cannot be reached), serialized
  // with every other use.
  template <typename F>
  auto With(F&& f) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!conn_ || !conn_->ok()) {
      conn_.reset();
      auto c = PgConn::Connect(params_);
      if (c.ok()) conn_.emplace(std::move(*c));
    }
    return f(conn_ ? &*conn_ : nullptr);
  }
  // Drops the cached connection (after a restart or a role change).
  void Reset();

 private:
  template <typename F>
  Result<PgResult> WithConnection(F&& f);

  ConnParams params_;
  std::mutex mu_;
  std::optional<PgConn> conn_;
};

}  // namespace pgrt
