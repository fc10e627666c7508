// libpq password files (.pgpass): how pgrt hands passwords to tools without argv or env.
#pragma once

#include <string>

namespace pgrt {

// One field of a .pgpass line, escaped as libpq reads it back: ':' and '\' always; a leading
// '#' (which would make the whole line a comment when it starts it) and a lone '*' (which would
// match anything) too. libpq drops the backslash before any other character, so the escaped
// field reads back as `v` exactly. A line break cannot be carried: LoadConfig refuses it in
// every value that reaches a passfile (config/value_rules.h).
inline std::string PassfileField(const std::string& v) {
  if (v == "*") return "\\*";
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c == ':' || c == '\\' || (c == '#' && i == 0)) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace pgrt
