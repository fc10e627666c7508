// Topology: the role this node plays and, for a replica, the primary it follows. It is
// state, not configuration: the configuration gives the first one, and the node's
// controller changes it while pgrt runs (promote, follow another primary). The role file
// (replication/role_file.h) keeps it across restarts.
#pragma once

#include <string>

#include "config/config.h"

namespace pgrt {

// The primary a replica follows.
struct Upstream {
  std::string host;
  int port = 5432;
  std::string slot;  // empty: no replication slot
  bool operator==(const Upstream&) const = default;
};

struct Topology {
  ReplicationMode role = ReplicationMode::kStandalone;
  Upstream upstream;  // replica only; empty otherwise
  bool operator==(const Topology&) const = default;

  bool replica() const { return role == ReplicationMode::kReplica; }
  // A standby that follows no one yet (with PGRT_HA, until a leader is known).
  bool waiting() const { return replica() && upstream.host.empty(); }
  // "replica of db1:5432 (slot replica_slot)", "primary", "standalone".
  std::string Describe() const;
};

// The topology the configuration asks for (POSTGRES_REPLICATION_MODE, POSTGRES_PRIMARY_*).
Topology ConfiguredTopology(const Config& c);
Topology ReplicaOf(Upstream upstream);
Topology Writable(ReplicationMode role);  // primary or standalone

// PGRT_NODE_NAME, or the host name.
std::string NodeName(const Config& c);
// The machine's host name, "pgrt" when unknown.
std::string HostName();

}  // namespace pgrt
