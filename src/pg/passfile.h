// libpq password files (.pgpass): how pgrt hands passwords to tools without argv or env.
#pragma once

#include <string>

namespace pgrt {

// One field of a .pgpass line, with ':' and '\' escaped as libpq expects.
inline std::string PassfileField(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace pgrt
