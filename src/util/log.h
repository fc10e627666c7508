// Logging set-up: spdlog to stderr as text or one JSON object per line.
#pragma once

#include <string>

namespace pgrt {

// format: "text" or "json". Safe to call more than once.
void SetupLogging(const std::string& format);

}  // namespace pgrt
