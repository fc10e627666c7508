#include "api/replication_view.h"

namespace pgrt {
namespace {

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
    json row;
    for (size_t c = 0; c < fields.size(); ++c)
      row[fields[c].first] = Cell(r, i, static_cast<int>(c), fields[c].second);
    out.push_back(row);
  }
  return out;
}

std::optional<json> PrimaryView(PgConn& conn, json j) {
  auto head = conn.Exec("SELECT pg_current_wal_lsn()::text");
  auto standbys = conn.Exec(
      "SELECT host(client_addr), application_name, state, sent_lsn::text, write_lsn::text,"
      " flush_lsn::text, replay_lsn::text, sync_state, sync_priority,"
      " extract(epoch FROM write_lag)::float8, extract(epoch FROM flush_lag)::float8,"
      " extract(epoch FROM replay_lag)::float8,"
      " pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::int8"
      " FROM pg_stat_replication ORDER BY application_name");
  auto slots = conn.Exec(
      "SELECT slot_name, slot_type, active, restart_lsn::text, active_pid, wal_status,"
      " pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::int8"
      " FROM pg_replication_slots ORDER BY slot_name");
  if (!head.ok() || !standbys.ok() || !slots.ok()) return std::nullopt;
  j["currentLsn"] = head->Get(0, 0);
  j["standbys"] = RowsToJson(*standbys, {{"clientAddr", 's'}, {"applicationName", 's'},
                                          {"state", 's'}, {"sentLsn", 's'}, {"writeLsn", 's'},
                                          {"flushLsn", 's'}, {"replayLsn", 's'},
                                          {"syncState", 's'}, {"syncPriority", 'i'},
                                          {"writeLagSeconds", 'f'}, {"flushLagSeconds", 'f'},
                                          {"replayLagSeconds", 'f'}, {"lagBytes", 'i'}});
  j["connectedStandbys"] = j["standbys"].size();
  j["replicationSlots"] =
      RowsToJson(*slots, {{"slotName", 's'}, {"slotType", 's'}, {"active", 'b'},
                          {"restartLsn", 's'}, {"activePid", 'i'}, {"walStatus", 's'},
                          {"retainedBytes", 'i'}});
  return j;
}

std::optional<json> ReplicaView(PgConn& conn, json j) {
  auto r = conn.Exec(
      "SELECT pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text,"
      " pg_last_xact_replay_timestamp()::text,"
      // Until the WAL receiver streams again after a restart, the receive position can
      // trail the replay position: nothing is pending then, so no lag (never a negative one).
      // clock_timestamp(), not now(): a commit replayed after this statement began would
      // otherwise give a negative lag.
      " CASE WHEN COALESCE(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), true) THEN 0"
      "  ELSE GREATEST(COALESCE(extract(epoch FROM clock_timestamp() -"
      "   pg_last_xact_replay_timestamp()), 0), 0) END::float8,"
      " GREATEST(COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()),"
      "  0), 0)::int8,"
      " pg_is_wal_replay_paused()");
  auto w = conn.Exec(
      "SELECT status, sender_host, sender_port, slot_name, received_tli,"
      " latest_end_lsn::text, last_msg_receipt_time::text FROM pg_stat_wal_receiver");
  if (!r.ok() || !w.ok()) return std::nullopt;
  j["inRecovery"] = true;
  j["receiveLsn"] = Cell(*r, 0, 0);
  j["replayLsn"] = Cell(*r, 0, 1);
  j["lastReplayTimestamp"] = Cell(*r, 0, 2);
  j["lagSeconds"] = Cell(*r, 0, 3, 'f');
  j["lagBytes"] = Cell(*r, 0, 4, 'i');
  j["paused"] = Cell(*r, 0, 5, 'b');
  json receiver = {{"status", "stopped"}};
  if (w->rows() == 1) {
    receiver = RowsToJson(*w, {{"status", 's'}, {"senderHost", 's'}, {"senderPort", 'i'},
                               {"slotName", 's'}, {"receivedTli", 'i'}, {"latestEndLsn", 's'},
                               {"lastMsgReceiptTime", 's'}})[0];
  }
  j["walReceiver"] = receiver;
  return j;
}

}  // namespace

std::optional<json> ReplicationView(ApiContext& ctx) {
  const Config& c = ctx.config;
  json j = {{"mode", ToString(c.replication_mode)},
            {"enabled", c.replication_mode != ReplicationMode::kStandalone}};
  if (c.replication_mode == ReplicationMode::kStandalone) return j;
  j["walLevel"] = c.wal_level;
  j["maxWalSenders"] = c.max_wal_senders;
  j["maxReplicationSlots"] = c.max_replication_slots;
  j["synchronousCommit"] = c.synchronous_commit;
  j["synchronousStandbyNames"] = c.synchronous_standby_names;
  if (!ctx.state.ready()) return std::nullopt;
  return ctx.db.With([&](PgConn* conn) -> std::optional<json> {
    if (conn == nullptr) return std::nullopt;
    auto rec = conn->Exec("SELECT pg_is_in_recovery()");
    if (!rec.ok()) return std::nullopt;
    if (rec->Get(0, 0) == "t") {
      j["role"] = "replica";
      j["primaryHost"] = c.primary_host;
      j["primaryPort"] = c.primary_port;
      return ReplicaView(*conn, j);
    }
    j["role"] = "primary";
    j["inRecovery"] = false;
    return PrimaryView(*conn, j);
  });
}

}  // namespace pgrt
