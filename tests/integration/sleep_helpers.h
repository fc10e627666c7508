// What the scale-to-zero tests read of a node: its `sleep` object in /__opr/status.
#pragma once

#include <nlohmann/json.hpp>

#include "harness/harness.h"

namespace pgrt::testing::scale_to_zero {

using json = nlohmann::json;
using std::chrono::milliseconds;

inline json Status(const PgrtNode& node) {
  return json::parse(node.Get("/__opr/status").body, nullptr, false);
}

inline json Sleep(const PgrtNode& node) {
  json s = Status(node);
  return s.is_object() && s.contains("sleep") ? s["sleep"] : json();
}

inline bool WaitAsleep(const PgrtNode& node, milliseconds timeout = milliseconds(20000)) {
  return WaitUntil(
      [&] {
        json s = Sleep(node);
        return s.is_object() && s["asleep"] == true;
      },
      timeout, milliseconds(50));
}

inline uint64_t Wakes(const PgrtNode& node) { return Sleep(node).value("wakes", uint64_t{0}); }

}  // namespace pgrt::testing::scale_to_zero
