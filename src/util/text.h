// Small text helpers shared by the parsers of what clients send (HTTP headers, Patroni's
// query names).
#pragma once

#include <cctype>
#include <string_view>

namespace pgrt {

// ASCII case-insensitive equality ("Bearer" and "bearer"; "Lag" and "lag").
inline bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace pgrt
