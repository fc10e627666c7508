// Quoting for SQL that reaches postgres without a client connection (a single-user backend
// reading its stdin), where libpq's PQescapeIdentifier has no connection to ask.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgrt {

// "name" with each '"' doubled: PostgreSQL's rule for a quoted identifier. Safe in every
// server encoding (their bytes below 0x80 are always ASCII, so a '"' inside a multibyte
// character cannot occur). nullopt for a name a line-oriented reader could split or cut:
// NUL and control characters (a single-user backend ends a statement at a newline).
inline std::optional<std::string> QuoteIdentOffline(std::string_view name) {
  if (name.empty()) return std::nullopt;
  std::string out = "\"";
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return std::nullopt;
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace pgrt
