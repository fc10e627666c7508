// The addresses of POSTGRES_LISTEN_ADDRESSES as postgres reads them, resolved for a port:
// "*" is every IPv4 and every IPv6 address (IPv6 only where the host has it), a name is
// every address it resolves to. The client door listens on the same ones as postgres.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "util/status.h"

namespace pgrt {

struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string where;      // "0.0.0.0:5432", for messages
  bool optional = false;  // "::" of "*": skipped where the host has no IPv6
};

// `addresses`: comma-separated lists ("*", "0.0.0.0, ::1", host names).
Result<std::vector<ListenAddress>> ResolveListenAddresses(const std::vector<std::string>& addresses,
                                                          int port);

}  // namespace pgrt
