// Whether and how a node that may sleep hands its client port to postgres (reuseport.h):
// the shim is found, and pgrt's TCP listeners are made in reuseport groups postgres can
// join, before postgres's configuration is chosen. When it cannot be done (no shim, no
// TCP address, an old kernel, no privilege to create postgres's sockets), the plan says why
// and the node relays every client through pgrt as it would without the handoff.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "util/status.h"
#include "util/unique_fd.h"

namespace pgrt {

struct HandoffPlan {
  std::string shim;                 // the library postgres preloads
  int port = 0;                     // the client port
  std::vector<UniqueFd> listeners;  // pgrt's member of each group, steered to pgrt
};

// `addresses`: POSTGRES_LISTEN_ADDRESSES; `owner`: postgres's uid.
Result<HandoffPlan> PlanHandoff(const std::vector<std::string>& addresses, int port, uid_t owner,
                                int backlog);

// What postgres's environment gains for the handoff (and only postgres's: the shim removes
// both variables before postgres's own code runs).
std::map<std::string, std::string> HandoffEnvironment(const HandoffPlan& plan);

}  // namespace pgrt
