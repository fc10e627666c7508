// Environments for the config tests: a minimal valid one, and that one with changes.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>

#include "config/config.h"

namespace pgrt::config_test {

inline Environment Minimal() {
  return {{"POSTGRES_USER", "app"}, {"POSTGRES_PASSWORD", "pw-Zq81"}, {"POSTGRES_DB", "appdb"}};
}

inline Environment With(std::initializer_list<std::pair<const std::string, std::string>> extra) {
  Environment env = Minimal();
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

// The message of a failed load; "" (and a test failure) when it loaded.
inline std::string ErrorOf(const Environment& env) {
  Result<Config> c = LoadConfig(env);
  EXPECT_FALSE(c.ok()) << "loaded unexpectedly";
  return c.ok() ? "" : c.status().message();
}

}  // namespace pgrt::config_test
