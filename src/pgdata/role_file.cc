#include "pgdata/role_file.h"

#include <nlohmann/json.hpp>

#include "util/fs.h"

namespace pgrt {
namespace {

constexpr int kVersion = 1;
constexpr const char* kLegacyPromotedMarker = "pgrt.promoted";

nlohmann::json ToJson(const Topology& t) {
  nlohmann::json j = {{"role", ToString(t.role)}};
  if (t.replica())
    j["upstream"] = {
        {"host", t.upstream.host}, {"port", t.upstream.port}, {"slot", t.upstream.slot}};
  return j;
}

Result<Topology> TopologyFromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("role") || !j["role"].is_string())
    return Status::InvalidArgument("no role");
  const std::string role = j["role"];
  if (role == "primary") return Writable(ReplicationMode::kPrimary);
  if (role == "standalone") return Writable(ReplicationMode::kStandalone);
  if (role != "replica") return Status::InvalidArgument("unknown role " + role);
  const nlohmann::json& u = j.value("upstream", nlohmann::json::object());
  // An empty host is a standby waiting for a leader (PGRT_HA).
  if (!u.is_object() || !u.contains("host") || !u["host"].is_string())
    return Status::InvalidArgument("a replica without an upstream host");
  Upstream up{u["host"], u.value("port", 5432), u.value("slot", std::string())};
  if (up.port < 1 || up.port > 65535) return Status::InvalidArgument("bad upstream port");
  return ReplicaOf(std::move(up));
}

}  // namespace

std::string RenderRoleFile(const RoleRecord& r) {
  nlohmann::json j = {{"version", kVersion},
                      {"node", r.node},
                      {"topology", ToJson(r.topology)},
                      {"configured", ToJson(r.configured)},
                      {"why", r.why},
                      {"at", r.at}};
  if (r.rewinding) j["rewinding"] = true;
  if (r.rewind_needed) j["rewind_needed"] = true;
  return j.dump(2) + "\n";
}

Result<RoleRecord> ParseRoleFile(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("not a JSON object");
  if (j.value("version", 0) != kVersion)
    return Status::InvalidArgument("unknown version (written by a newer pgrt?)");
  RoleRecord r;
  auto topology = TopologyFromJson(j.value("topology", nlohmann::json()));
  if (!topology.ok()) return topology.status().Wrap("topology");
  auto configured = TopologyFromJson(j.value("configured", nlohmann::json()));
  if (!configured.ok()) return configured.status().Wrap("configured");
  r.topology = *topology;
  r.configured = *configured;
  if (!j.contains("node") || !j["node"].is_string()) return Status::InvalidArgument("no node");
  r.node = j["node"];
  r.why = j.value("why", std::string());
  r.at = j.value("at", std::string());
  r.rewinding = j.value("rewinding", false);
  r.rewind_needed = j.value("rewind_needed", false);
  return r;
}

Result<std::optional<RoleRecord>> ReadRoleFile(const NodeContext& ctx) {
  const NodeLayout& l = ctx.layout;
  if (PathExists(l.role_file)) {
    auto text = ReadFile(l.role_file);
    if (!text.ok()) return text.status().Wrap("role file");
    auto r = ParseRoleFile(*text);
    if (!r.ok()) return r.status().Wrap("role file " + l.role_file);
    return std::optional<RoleRecord>(*r);
  }
  // An older pgrt marked a promotion through the API with a file of its own.
  if (ctx.config.replication_mode == ReplicationMode::kReplica &&
      PathExists(JoinPath(l.pgdata, kLegacyPromotedMarker))) {
    RoleRecord r = RecordOf(ctx, Writable(ReplicationMode::kPrimary), "promoted through the API");
    r.legacy = true;
    return std::optional<RoleRecord>(std::move(r));
  }
  return std::optional<RoleRecord>();
}

RoleRecord RecordOf(const NodeContext& ctx, Topology t, std::string why) {
  RoleRecord r;
  r.topology = std::move(t);
  r.configured = ConfiguredTopology(ctx.config);
  r.node = NodeName(ctx.config);
  r.why = std::move(why);
  r.at = IsoTimestamp();
  return r;
}

Status WriteRoleFile(const NodeContext& ctx, const RoleRecord& r) {
  PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx, ctx.layout.role_file, RenderRoleFile(r), 0600),
                       "role file");
  // Its successor holds what it said.
  std::string legacy = JoinPath(ctx.layout.pgdata, kLegacyPromotedMarker);
  if (PathExists(legacy)) return RemoveIfPresent(legacy).Wrap("role file");
  return Status::Ok();
}

BootRole ChooseBootRole(const Config& c, const std::optional<RoleRecord>& file) {
  const Topology configured = ConfiguredTopology(c);
  if (!file) return {configured, "configuration"};
  if (file->node != NodeName(c))
    return {configured, "configuration (the role file was written by node " + file->node +
                            ", copied by a clone or pg_rewind)"};
  if (!(file->configured == configured)) {
    BootRole boot{configured, "configuration (changed since the role file was written)"};
    boot.promoted = file->configured.replica() && !file->topology.replica();
    return boot;
  }
  BootRole boot{file->topology, file->why + " (the role file, " + file->at + ")", file->rewinding};
  boot.record = file->legacy;
  boot.rewind_needed = file->rewind_needed;
  return boot;
}

BootRole ClusterBootRole(const Config& c, const Topology& cluster,
                         const std::optional<RoleRecord>& file) {
  BootRole boot{cluster, "the cluster (etcd)"};
  if (!file || file->node != NodeName(c)) return boot;
  boot.rewinding = file->rewinding;
  boot.rewind_needed = file->rewind_needed || !file->topology.replica();
  // Data that may have forked does not stream from the leader as it is: it starts as a
  // standby of no one, and the controller rewinds it once it runs.
  if (boot.rewind_needed && cluster.replica() && !boot.rewinding) {
    boot.topology = ReplicaOf({});
    boot.why = "the cluster (etcd); this data was a primary's: pg_rewind before following";
    return boot;
  }
  // A replica of another node than the leader now: its data may hold WAL past the point where
  // the leader's timeline forked off. It starts as a standby of no one and the controller asks
  // the leader before it follows (a re-point, or pg_rewind first).
  if (cluster.replica() && !cluster.waiting() && !boot.rewinding && file->topology.replica() &&
      !(file->topology.upstream == cluster.upstream)) {
    boot.topology = ReplicaOf({});
    boot.why = "the cluster (etcd); this data followed " + file->topology.upstream.host + ":" +
               std::to_string(file->topology.upstream.port) +
               ": it checks where the leader's timeline forked before following it";
  }
  return boot;
}

}  // namespace pgrt
