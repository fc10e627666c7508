#include "node/monitor.h"

#include <spdlog/spdlog.h>

#include "pg/state_sql.h"
#include "process/off_loop.h"
#include "replication/clone.h"
#include "replication/login_failure.h"

namespace pgrt {

namespace {
constexpr Millis kInterval{1000};
constexpr Millis kQuickInterval{100};
// A healthy local server answers in milliseconds; a loaded CI machine in tens of them.
constexpr Millis kDeadline{2000};
// Every fifth observation asks whether a client can connect now: a stopped or wedged
// postmaster fails a new connection within the deadline while old backends still answer.
constexpr int kFreshEvery = 5;
// The WAL receiver restarts every wal_retrieve_retry_interval (5 s): a few seconds without
// streaming are normal after a start or a primary restart.
constexpr int kTicksBeforeLoginCheck = 3;
constexpr Millis kLoginCheckEvery{10000};
constexpr Millis kLoginCheckWhileRefused{30000};
constexpr Millis kLoginCheckDeadline{10000};

using nlohmann::json;

// A column as JSON: null stays null, numbers and booleans keep their type.
json Cell(const PgResult& r, int row, int col, char kind = 's') {
  if (r.IsNull(row, col)) return nullptr;
  std::string v = r.Get(row, col);
  if (kind == 'b') return v == "t";
  if (kind == 'i') return std::stoll(v);
  if (kind == 'f') return std::stod(v);
  return v;
}

json RowsToJson(const PgResult& r, const std::vector<std::pair<const char*, char>>& fields) {
  json out = json::array();
  for (int i = 0; i < r.rows(); ++i) {
    json row = json::object();
    for (size_t c = 0; c < fields.size(); ++c)
      row[fields[c].first] = Cell(r, i, static_cast<int>(c), fields[c].second);
    out.push_back(row);
  }
  return out;
}

}  // namespace

const char* ObservationSql() {
  // Five statements, one round trip. Standbys and slots exist on a primary (and on a
  // cascading replica); the WAL receiver on a replica.
  static const std::string sql =
      std::string(
          "SELECT pg_is_in_recovery(), current_setting('server_version'),"
          " extract(epoch FROM pg_postmaster_start_time())::float8,"
          " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),"
          " current_setting('max_connections')::int,"
          " (SELECT timeline_id FROM pg_control_checkpoint()),"
          " CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,"
          " pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text,"
          " " PGRT_SQL_ISO_UTC("pg_last_xact_replay_timestamp()") ", ") +
      state_sql::kReplayLagSeconds + ", " + state_sql::kReplayLagBytes +
      ", CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,"
      // The status page's rates: transactions ended, and the WAL position in bytes.
      " (SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database)::int8,"
      " pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
      "  ELSE pg_current_wal_lsn() END, '0/0')::float8;"
      "SELECT host(client_addr), application_name, state, sent_lsn::text, write_lsn::text,"
      " flush_lsn::text, replay_lsn::text, sync_state, sync_priority,"
      " extract(epoch FROM write_lag)::float8, extract(epoch FROM flush_lag)::float8,"
      " extract(epoch FROM replay_lag)::float8,"
      " CASE WHEN pg_is_in_recovery() THEN NULL"
      "  ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::int8 END,"
      " client_hostname, client_port, " PGRT_SQL_ISO_UTC("reply_time") ""
      " FROM pg_stat_replication ORDER BY application_name;"
      "SELECT slot_name, slot_type, active, restart_lsn::text, active_pid, wal_status,"
      " CASE WHEN pg_is_in_recovery() THEN NULL"
      "  ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::int8 END, database"
      " FROM pg_replication_slots ORDER BY slot_name;"
      "SELECT status, sender_host, sender_port, slot_name, received_tli,"
      " latest_end_lsn::text, " PGRT_SQL_ISO_UTC("last_msg_receipt_time") ","
      " pid, flushed_lsn::text, " PGRT_SQL_ISO_UTC("last_msg_send_time") ""
      " FROM pg_stat_wal_receiver;"
      "SELECT current_setting('archive_mode'), archived_count, last_archived_wal,"
      " to_char(last_archived_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
      " failed_count, last_failed_wal,"
      " to_char(last_failed_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
      " FROM pg_stat_archiver";
  return sql.c_str();
}

Result<Observation> ParseObservation(const std::vector<PgResult>& results) {
  if (results.size() != 5 || results[0].rows() != 1)
    return Status::Error("observation: unexpected answer shape");
  const PgResult& s = results[0];
  Observation o;
  o.role = s.Get(0, 0) == "t" ? PgRole::kReplica : PgRole::kPrimary;
  o.version = s.Get(0, 1);
  o.started_epoch = std::stod(s.Get(0, 2));
  o.connections = std::stoi(s.Get(0, 3));
  o.max_connections = std::stoi(s.Get(0, 4));
  o.timeline = s.IsNull(0, 5) ? 0 : std::stoi(s.Get(0, 5));
  o.current_lsn = s.GetOpt(0, 6);
  o.receive_lsn = s.GetOpt(0, 7);
  o.replay_lsn = s.GetOpt(0, 8);
  o.last_replay_timestamp = s.GetOpt(0, 9);
  o.lag_seconds = std::stod(s.Get(0, 10));
  o.replay_lag_bytes = std::stoll(s.Get(0, 11));
  o.paused = s.Get(0, 12) == "t";
  if (s.cols() > 14) {
    if (!s.IsNull(0, 13)) o.xacts = std::stoll(s.Get(0, 13));
    if (!s.IsNull(0, 14)) o.wal_bytes = std::stod(s.Get(0, 14));
  }
  o.standbys = RowsToJson(results[1], {{"clientAddr", 's'},
                                       {"applicationName", 's'},
                                       {"state", 's'},
                                       {"sentLsn", 's'},
                                       {"writeLsn", 's'},
                                       {"flushLsn", 's'},
                                       {"replayLsn", 's'},
                                       {"syncState", 's'},
                                       {"syncPriority", 'i'},
                                       {"writeLagSeconds", 'f'},
                                       {"flushLagSeconds", 'f'},
                                       {"replayLagSeconds", 'f'},
                                       {"lagBytes", 'i'},
                                       {"clientHostname", 's'},
                                       {"clientPort", 'i'},
                                       {"replyTime", 's'}});
  o.slots = RowsToJson(results[2], {{"slotName", 's'},
                                    {"slotType", 's'},
                                    {"active", 'b'},
                                    {"restartLsn", 's'},
                                    {"activePid", 'i'},
                                    {"walStatus", 's'},
                                    {"retainedBytes", 'i'},
                                    {"database", 's'}});
  if (results[3].rows() == 1) {
    o.wal_receiver = RowsToJson(results[3], {{"status", 's'},
                                             {"senderHost", 's'},
                                             {"senderPort", 'i'},
                                             {"slotName", 's'},
                                             {"receivedTli", 'i'},
                                             {"latestEndLsn", 's'},
                                             {"lastMsgReceiptTime", 's'},
                                             {"pid", 'i'},
                                             {"receivedLsn", 's'},
                                             {"lastMsgSendTime", 's'}})[0];
    o.streaming = o.wal_receiver["status"] == "streaming";
  }
  if (results[4].rows() == 1)
    o.archive = RowsToJson(results[4], {{"mode", 's'},
                                        {"archivedCount", 'i'},
                                        {"lastArchivedWal", 's'},
                                        {"lastArchivedTime", 's'},
                                        {"failedCount", 'i'},
                                        {"lastFailedWal", 's'},
                                        {"lastFailedTime", 's'}})[0];
  return o;
}

Monitor::Monitor(const NodeContext& ctx, NodeState& state, EventLoop& loop)
    : ctx_(ctx),
      state_(state),
      loop_(loop),
      conn_(
          loop,
          [&] {
            auto params = ctx.LocalConn(ctx.config.db);
            params["application_name"] = "pgrt-monitor";
            return params;
          }(),
          AsyncPgConn::Reuse::kKeep) {}

Monitor::~Monitor() {
  *alive_ = false;
  if (timer_) loop_.CancelTimer(timer_);
}

void Monitor::Start() {
  const Observation o = state_.observation();
  const bool quick = loop_.clock().Now() < quick_until_ &&
                     (o.role == PgRole::kUnknown || (o.role == PgRole::kReplica && !o.streaming));
  timer_ = loop_.AddTimer(quick ? kQuickInterval : kInterval, [this] {
    timer_ = 0;
    Observe(false);
    Start();
  });
}

void Monitor::Quicken(Millis span) {
  quick_until_ = loop_.clock().Now() + span;
  if (timer_) loop_.CancelTimer(timer_);
  timer_ = 0;
  Start();
}

void Monitor::RefreshNow(std::function<void()> then) {
  if (then) waiting_.push_back(std::move(then));
  if (in_flight_) {
    again_ = true;  // the one in flight may have started before what the caller changed
    return;
  }
  Observe(true);
}

void Monitor::Observe(bool asked) {
  if (in_flight_) return;  // the periodic tick while a slow one is still out
  // Nothing to ask while no postmaster accepts clients (starting, hibernated, restarting,
  // stopped). An asked-for observation only needs a postmaster: the node becomes ready
  // with its first observation.
  if (asked ? state_.postgres_pid() == 0 : !state_.ready()) {
    state_.SetObservation(Observation{});
    std::vector<std::function<void()>> waiting;
    waiting.swap(waiting_);
    for (auto& cb : waiting) cb();
    return;
  }
  in_flight_ = true;
  const pid_t postmaster = state_.postgres_pid();
  const bool fresh = asked || postmaster != conn_postmaster_ || ++since_fresh_ >= kFreshEvery;
  if (fresh) {
    conn_.Reset();
    conn_postmaster_ = postmaster;
    since_fresh_ = 0;
  }
  Send(fresh);
}

void Monitor::Send(bool fresh) {
  conn_.Query(ObservationSql(), kDeadline, [this, fresh](Result<AsyncPgConn::Results> r) {
    // A kept connection that ended (idle_session_timeout, pg_terminate_backend) says nothing
    // about postgres: ask again on a new one.
    if (!fresh && !r.ok() && r.status().IsUnavailable()) {
      conn_.Reset();
      since_fresh_ = 0;
      return Send(true);
    }
    in_flight_ = false;
    Apply(std::move(r));
  });
}

void Monitor::Apply(Result<AsyncPgConn::Results> r) {
  Result<Observation> o = r.ok() ? ParseObservation(*r) : Result<Observation>(r.status());
  if (o.ok()) {
    o->at = loop_.clock().WallNow();
    state_.SetObservation(*o);
    state_.history().Offer(SampleHistory::ReadingOf(*o), loop_.clock().Now());
    if (o->role == PgRole::kReplica) CheckReplicationLogin(o->streaming);
  } else {
    Observation unreachable;
    unreachable.at = loop_.clock().WallNow();
    unreachable.error = o.status().message();
    if (state_.observation().role != PgRole::kUnknown)
      spdlog::warn("postgres did not answer the monitor: {}", unreachable.error);
    state_.SetObservation(unreachable);
  }
  if (again_) {
    again_ = false;
    return Observe(true);
  }
  std::vector<std::function<void()>> waiting;
  waiting.swap(waiting_);
  for (auto& cb : waiting) cb();
}

void Monitor::CheckReplicationLogin(bool streaming) {
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
  if (++not_streaming_ticks_ < kTicksBeforeLoginCheck || login_check_out_ ||
      now < next_login_check_)
    return;
  next_login_check_ = now + (login_refused_ ? kLoginCheckWhileRefused : kLoginCheckEvery);
  // A replication connection, as the WAL receiver makes: the same pg_hba.conf line decides.
  const Topology t = state_.topology();
  if (!t.replica()) return;
  ConnParams params = PrimaryConn(ctx_.config, t.upstream);
  params["replication"] = "true";
  params["application_name"] = "pgrt-login-check";
  login_check_out_ = true;
  std::weak_ptr<bool> alive = alive_;
  RunOffLoop<std::string>(
      loop_,
      [params]() -> Result<std::string> {
        auto conn = PgConn::Connect(params);
        return conn.ok() ? std::string() : conn.status().message();
      },
      kLoginCheckDeadline,
      [this, alive](Result<std::string> r) {
        if (alive.expired()) return;
        login_check_out_ = false;
        OnLoginChecked(r.ok() ? *r : r.status().message());
      });
}

void Monitor::OnLoginChecked(const std::string& error) {
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

}  // namespace pgrt
