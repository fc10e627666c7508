// The role file, PGDATA/pgrt.role: the node's topology as the controller last set it (the
// role, the primary it follows), why, and which node wrote it. One JSON file written
// atomically (write, fsync, rename); it replaces older markers (pgrt.promoted). A restart
// keeps a promotion or a new upstream made while pgrt ran, until the configuration itself
// changes.
#pragma once

#include <optional>
#include <string>

#include "pgdata/context.h"
#include "pgdata/topology.h"

namespace pgrt {

struct RoleRecord {
  Topology topology;
  // The configuration's topology when the file was written: when it differs now, the
  // operator changed the configuration and it wins.
  Topology configured;
  // The node that wrote it. pg_basebackup and pg_rewind copy the other node's file along
  // with its data; such a copy says nothing about this node.
  std::string node;
  std::string why;
  std::string at;          // UTC, ISO 8601
  bool rewinding = false;  // written before pg_rewind starts, cleared once it finished
  // This data took writes as a primary since it last followed one: to follow another, it
  // must be rewound first (its history may have forked). Kept for a fenced former leader.
  bool rewind_needed = false;
  bool legacy = false;  // read from an older pgrt's marker (never written)
};

std::string RenderRoleFile(const RoleRecord& r);
Result<RoleRecord> ParseRoleFile(const std::string& text);

// PGDATA's role file, or nullopt when there is none. A marker of an older pgrt
// (pgrt.promoted, on a replica) reads as a primary promoted through the API.
Result<std::optional<RoleRecord>> ReadRoleFile(const NodeContext& ctx);
Status WriteRoleFile(const NodeContext& ctx, const RoleRecord& r);
// A record of `t` for this node now.
RoleRecord RecordOf(const NodeContext& ctx, Topology t, std::string why);

// The topology a node boots with, and why.
struct BootRole {
  Topology topology;
  std::string why;
  bool rewinding = false;  // the data may be the remains of an interrupted pg_rewind
  // The role file says this node was promoted while pgrt ran (a replica by configuration):
  // following a primary again needs a rewind or a new clone.
  bool promoted = false;
  // The role file does not say this yet (or says it in an older form): write it.
  bool record = true;
  bool rewind_needed = false;  // see RoleRecord::rewind_needed
};
BootRole ChooseBootRole(const Config& c, const std::optional<RoleRecord>& file);
// With PGRT_HA the cluster names the topology (`cluster`); the role file only says whether
// the data may have forked (it was a primary, or still needs a rewind) or is half rewound.
BootRole ClusterBootRole(const Config& c, const Topology& cluster,
                         const std::optional<RoleRecord>& file);

}  // namespace pgrt
