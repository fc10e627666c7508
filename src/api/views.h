// JSON and text bodies of the read-only endpoints, built from state and postgres.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "api/api.h"

namespace pgrt {

// /__opr/status, as the OpenRuntimes PostgreSQL runtime answers it (docs/compatibility.md),
// with pgrt's own fields beside theirs. Always a complete object, ready or not.
nlohmann::json StatusView(ApiContext& ctx);
// PGRT_IDLE_TIMEOUT: /__opr/status's `sleep` object.
nlohmann::json SleepView(const SleepState& s, SystemTime now);

// /__opr/status's "tls": per served certificate (postgres, api) its subject, serial, SHA-256
// fingerprint, expiry, last rotation and why the last new set was refused.
nlohmann::json TlsView(const std::map<std::string, TlsCertStatus>& sets, SystemTime now);

// /__opr/status's `progress`: the clone, restore or backup running now, as far as its tool
// reports it ({operation, bytesDone, bytesTotal, percent, startedAt, updatedAt}; a figure
// the tool does not give is null); null when nothing long runs.
nlohmann::json ProgressView(ApiContext& ctx);

// A "volumes" entry: df -h's columns for the file system holding `path` (size, used,
// available, usePercent as strings), mounted, and the same figures in bytes.
// {path, mounted:false} when `path` cannot be examined.
nlohmann::json VolumeView(const std::string& path);

// df -h's rendering of a byte count: powers of 1024, rounded up, one decimal below 10
// ("0", "512", "4.0K", "9.9G", "10G", "1.0T").
std::string HumanSize(uint64_t bytes);

// df's Use%: used / (used + available) rounded up, "26%"; "-" for an empty file system.
std::string HumanPercent(uint64_t used, uint64_t available);

}  // namespace pgrt
