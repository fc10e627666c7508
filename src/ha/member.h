// Member: what one node of an HA cluster tells the others about itself, kept in etcd under
// /pgrt/<cluster>/members/<name> and bound to the node's lease (a dead node's record goes
// with its lease). Peers read the leader's host and port from it, candidates compare WAL
// positions with it, and GET /cluster shows it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "util/status.h"

namespace pgrt {

struct Member {
  std::string name;
  std::string role = "unknown";  // primary | replica | unknown (postgres not observed)
  std::string state;             // the node's phase: running, starting, rewinding...
  std::string host;              // PGRT_ADVERTISE_HOST
  int port = 5432;               // postgres
  std::string api_url;           // http://host:port of the management API
  std::string application_name;  // what its WAL receiver calls itself (pg_stat_replication)
  int timeline = 0;
  uint64_t lsn = 0;            // a primary's current WAL position; a replica's received or replayed
  bool ready = false;          // postgres accepts connections
  bool checkpointed = true;    // false between a promotion and its checkpoint (pg_rewind
                               // from this node must wait: it reads the control file)
  bool rewind_needed = false;  // its data may have forked from the leader's
  bool operator==(const Member&) const = default;
};

std::string RenderMember(const Member& m);
Result<Member> ParseMember(const std::string& json);

// "16/B374D848" → bytes; nullopt for anything else.
std::optional<uint64_t> ParseLsn(const std::string& text);
std::string FormatLsn(uint64_t lsn);

}  // namespace pgrt
