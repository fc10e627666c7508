// The few PostgreSQL protocol messages the client door speaks itself: it relays every
// other byte untouched (TLS and SCRAM stay between the client and postgres).
#pragma once

#include <cstddef>
#include <string>

namespace pgrt {

// A FATAL ErrorResponse ('E'), as the postmaster sends one before a session exists. libpq
// shows its message whether it arrives after the startup packet or in answer to an
// SSLRequest, so a held client gets a clean error instead of a reset.
std::string FatalError(const std::string& sqlstate, const std::string& message);

// SQLSTATE 57P03 cannot_connect_now: what postgres itself answers while it starts.
inline constexpr const char* kCannotConnectNow = "57P03";

}  // namespace pgrt
