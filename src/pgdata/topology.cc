#include "pgdata/topology.h"

#include <unistd.h>

namespace pgrt {

std::string Topology::Describe() const {
  if (!replica()) return ToString(role);
  if (waiting()) return "replica waiting for a leader";
  std::string s = "replica of " + upstream.host + ":" + std::to_string(upstream.port);
  if (!upstream.slot.empty()) s += " (slot " + upstream.slot + ")";
  return s;
}

Topology ConfiguredTopology(const Config& c) {
  if (c.replication_mode != ReplicationMode::kReplica) return Writable(c.replication_mode);
  return ReplicaOf({c.primary_host, c.primary_port, c.replication_slot_name});
}

Topology ReplicaOf(Upstream upstream) {
  return Topology{ReplicationMode::kReplica, std::move(upstream)};
}

Topology Writable(ReplicationMode role) { return Topology{role, {"", 5432, ""}}; }

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "pgrt";
  return buf;
}

std::string NodeName(const Config& c) { return c.node_name.empty() ? HostName() : c.node_name; }

}  // namespace pgrt
