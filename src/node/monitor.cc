#include "node/monitor.h"

#include <algorithm>

namespace pgrt {

namespace {
constexpr Millis kInterval{1000};
}

void Monitor::Start() {
  loop_.AddTimer(kInterval, [this] {
    Observe();
    Start();
  });
}

void Monitor::RefreshNow() { Observe(); }

PgConn* Monitor::Connection() {
  if (conn_ && conn_->ok()) return &*conn_;
  conn_.reset();
  auto params = ctx_.LocalConn(ctx_.config.db);
  params["connect_timeout"] = "2";
  // Bounded: the loop must never hang on a stuck server.
  params["options"] = "-c statement_timeout=2000";
  auto c = PgConn::Connect(params);
  if (!c.ok()) return nullptr;
  conn_.emplace(std::move(*c));
  return &*conn_;
}

void Monitor::Observe() {
  Observation o;
  if (!state_.ready()) {
    state_.SetObservation(o);
    return;
  }
  PgConn* conn = Connection();
  if (conn == nullptr) {
    state_.SetObservation(o);
    return;
  }
  auto r = conn->Exec(
      "SELECT pg_is_in_recovery(),"
      " COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::int8,"
      " COALESCE((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false)");
  if (r.ok() && r->rows() == 1) {
    o.role = r->Get(0, 0) == "t" ? PgRole::kReplica : PgRole::kPrimary;
    o.replay_lag_bytes = std::max<int64_t>(0, std::stoll(r->Get(0, 1)));
    o.streaming = r->Get(0, 2) == "t";
  }
  state_.SetObservation(o);
}

}  // namespace pgrt
