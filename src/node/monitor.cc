#include "node/monitor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "replication/clone.h"
#include "replication/login_failure.h"

namespace pgrt {

namespace {
constexpr Millis kInterval{1000};
// The WAL receiver restarts every wal_retrieve_retry_interval (5 s): a few seconds without
// streaming are normal after a start or a primary restart.
constexpr int kTicksBeforeLoginCheck = 3;
constexpr Millis kLoginCheckEvery{10000};
constexpr Millis kLoginCheckWhileRefused{30000};

std::string TryReplicationLogin(ConnParams params) {
  auto conn = PgConn::Connect(params);
  return conn.ok() ? std::string() : conn.status().message();
}
}  // namespace

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
  if (o.role == PgRole::kReplica) CheckReplicationLogin(o.streaming);
}

void Monitor::CheckReplicationLogin(bool streaming) {
  if (login_check_.valid() &&
      login_check_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    const std::string error = login_check_.get();
    const bool refused = !error.empty() && IsAuthenticationFailure(error);
    if (refused) {
      const std::string warning = ReplicationLoginWarning(ctx_.config, error);
      spdlog::warn("{}", warning);
      state_.SetMessage(warning);
    } else if (login_refused_) {
      state_.SetMessage("");
    }
    login_refused_ = refused;
  }
  if (streaming) {
    not_streaming_ticks_ = 0;
    if (login_refused_) {
      spdlog::info("the primary accepts the replication login again");
      state_.SetMessage("");
      login_refused_ = false;
    }
    return;
  }
  const SteadyTime now = loop_.clock().Now();
  if (++not_streaming_ticks_ < kTicksBeforeLoginCheck || login_check_.valid() ||
      now < next_login_check_)
    return;
  next_login_check_ = now + (login_refused_ ? kLoginCheckWhileRefused : kLoginCheckEvery);
  // A replication connection, as the WAL receiver makes: the same pg_hba.conf line decides.
  ConnParams params = PrimaryConn(ctx_.config);
  params["replication"] = "true";
  params["application_name"] = "pgrt-login-check";
  login_check_ = std::async(std::launch::async, TryReplicationLogin, std::move(params));
}

}  // namespace pgrt
