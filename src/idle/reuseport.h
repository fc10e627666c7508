// The client port shared with postgres through SO_REUSEPORT (the handoff of a node that may
// sleep, runtime/sleeper.h). pgrt listens on each client address in a reuseport group, and
// postgres, started with the shim (src/shim/), binds the same address and port and joins
// that group second. A one-instruction classic BPF program on pgrt's socket picks which
// member takes each new connection: postgres's (index 1) while it is ready, so clients
// connect to it directly and nothing is relayed; pgrt's (index 0) while it sleeps or stops,
// so they queue at pgrt, which holds them and wakes postgres. An index past the group's
// size falls back to the kernel's hash: with postgres gone, that is pgrt's only socket, so
// a client always finds a listener.
//
// The kernel lets sockets join one group only when they were created by the same user (a
// socket's owner is the creating thread's fsuid), so pgrt, root, creates its listeners
// with its fsuid set to postgres's uid for the moment of socket().
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "util/status.h"
#include "util/unique_fd.h"

namespace pgrt {

inline constexpr uint32_t kSteerToPgrt = 0;
inline constexpr uint32_t kSteerToPostgres = 1;

// The environment variable naming the port to the shim, and the shim's file name.
inline constexpr const char* kShimPortVariable = "PGRT_REUSEPORT_PORT";
inline constexpr const char* kShimFileName = "libpgrt-reuseport.so";

// The shim beside pgrt's binary: lib/pgrt/ next to it (the build tree), or ../lib/pgrt/
// (an installed prefix: /usr/local/bin/pgrt → /usr/local/lib/pgrt/). It must be a regular
// file owned by root (or by pgrt's own user) that nobody else may write, in directories
// likewise, and readable by everyone: postgres loads it. The error says why not.
Result<std::string> FindReuseportShim();

// A listening TCP socket on `addr`, in a reuseport group that `owner`'s sockets may join,
// steered to pgrt. Fails when something listens there already (as a plain bind would), or
// when the kernel or the privileges do not allow the group.
Result<UniqueFd> ListenInReuseportGroup(const sockaddr* addr, socklen_t len, uid_t owner,
                                        int backlog);

// New connections of `fd`'s group go to member `index` from now on.
Status SteerReuseportGroup(int fd, uint32_t index);

}  // namespace pgrt
