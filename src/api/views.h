// JSON and text bodies of the read-only endpoints, built from state and postgres.
#pragma once

#include <nlohmann/json.hpp>

#include "api/api.h"

namespace pgrt {

// /__opr/status. postgres's own version and uptime; sizes of PGDATA's file system.
nlohmann::json StatusView(ApiContext& ctx);

// The "volumes.data" part: statvfs of the file system holding `path`.
nlohmann::json VolumeView(const std::string& path);

}  // namespace pgrt
