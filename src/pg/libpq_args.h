// What the synchronous and the asynchronous connection share when they talk to libpq:
// keyword/value arrays for PQconnect*Params, and libpq's messages without their newline.
#pragma once

#include <string>
#include <vector>

#include "pg/connection.h"

namespace pgrt {

// ConnParams as the NULL-terminated arrays PQconnectdbParams and PQconnectStartParams take;
// the pointers live as long as `params`.
struct KeywordArrays {
  std::vector<const char*> keys;
  std::vector<const char*> values;
  explicit KeywordArrays(const ConnParams& params) {
    for (const auto& [k, v] : params) {
      keys.push_back(k.c_str());
      values.push_back(v.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
  }
};

inline std::string TrimmedError(const char* msg) {
  std::string s = msg ? msg : "unknown error";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace pgrt
