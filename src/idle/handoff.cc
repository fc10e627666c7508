#include "idle/handoff.h"

#include <errno.h>

#include "idle/listen_address.h"
#include "idle/reuseport.h"

namespace pgrt {

Result<HandoffPlan> PlanHandoff(const std::vector<std::string>& addresses, int port, uid_t owner,
                                int backlog) {
  HandoffPlan plan;
  plan.port = port;
  auto shim = FindReuseportShim();
  if (!shim.ok()) return shim.status();
  plan.shim = *shim;
  auto resolved = ResolveListenAddresses(addresses, port);
  if (!resolved.ok()) return resolved.status();
  for (const ListenAddress& a : *resolved) {
    auto fd =
        ListenInReuseportGroup(reinterpret_cast<const sockaddr*>(&a.addr), a.len, owner, backlog);
    if (!fd.ok()) {
      if (a.optional && errno == EADDRNOTAVAIL) continue;  // no IPv6 on this host
      return fd.status().Wrap(a.where);
    }
    plan.listeners.push_back(std::move(*fd));
  }
  if (plan.listeners.empty())
    return Status::FailedPrecondition("no TCP address to share (POSTGRES_LISTEN_ADDRESSES)");
  return plan;
}

std::map<std::string, std::string> HandoffEnvironment(const HandoffPlan& plan) {
  return {{"LD_PRELOAD", plan.shim}, {kShimPortVariable, std::to_string(plan.port)}};
}

}  // namespace pgrt
