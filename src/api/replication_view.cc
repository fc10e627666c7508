#include "api/replication_view.h"

namespace pgrt {

using nlohmann::json;

std::optional<json> ReplicationView(ApiContext& ctx) {
  const Config& c = ctx.config;
  // The node's role now (a promotion or a new upstream changes it while pgrt runs).
  const Topology t = ctx.state.topology();
  json j = {{"mode", ToString(t.role)}, {"enabled", t.role != ReplicationMode::kStandalone}};
  if (t.role == ReplicationMode::kStandalone) return j;
  j["walLevel"] = c.wal_level;
  j["maxWalSenders"] = c.max_wal_senders;
  j["maxReplicationSlots"] = c.max_replication_slots;
  j["synchronousCommit"] = c.synchronous_commit;
  j["synchronousStandbyNames"] = c.synchronous_standby_names;
  if (!ctx.state.ready()) return std::nullopt;
  // From the monitor's last observation: one definition of every figure (and of lag).
  const Observation o = ctx.state.observation();
  if (o.role == PgRole::kUnknown) return std::nullopt;
  if (o.role == PgRole::kReplica) {
    j["role"] = "replica";
    j["primaryHost"] = t.upstream.host;
    j["primaryPort"] = t.upstream.port;
    j["slotName"] = t.upstream.slot.empty() ? json(nullptr) : json(t.upstream.slot);
    j["inRecovery"] = true;
    j["receiveLsn"] = o.receive_lsn ? json(*o.receive_lsn) : json(nullptr);
    j["replayLsn"] = o.replay_lsn ? json(*o.replay_lsn) : json(nullptr);
    j["lastReplayTimestamp"] =
        o.last_replay_timestamp ? json(*o.last_replay_timestamp) : json(nullptr);
    j["lagSeconds"] = o.lag_seconds;
    j["lagBytes"] = o.replay_lag_bytes;
    j["paused"] = o.paused;
    // null without a WAL receiver process, as the runtime answers.
    j["walReceiver"] = o.wal_receiver.contains("pid") ? o.wal_receiver : json(nullptr);
    j["walReceiverStatus"] = o.wal_receiver.value("status", "stopped");
    return j;
  }
  j["role"] = "primary";
  j["inRecovery"] = false;
  j["currentLsn"] = o.current_lsn ? json(*o.current_lsn) : json(nullptr);
  j["standbys"] = o.standbys;
  j["connectedStandbys"] = o.standbys.size();
  j["replicationSlots"] = o.slots;
  return j;
}

}  // namespace pgrt
