#include "config/values.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <cstdio>

namespace pgrt {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlpha(char c) { return IsLower(c) || (c >= 'A' && c <= 'Z'); }
bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (size_t pos; (pos = s.find(sep)) != std::string_view::npos; s.remove_prefix(pos + 1)) {
    out.push_back(s.substr(0, pos));
  }
  out.push_back(s);
  return out;
}

// One cron item: "*", "*/n", "a", "a-b", "a-b/n".
std::optional<std::string> CheckCronItem(std::string_view item, int lo, int hi) {
  std::string_view range = item;
  if (size_t slash = item.find('/'); slash != std::string_view::npos) {
    std::string_view step = item.substr(slash + 1);
    range = item.substr(0, slash);
    std::optional<int> n = AllDigits(step) ? ParseInt(step) : std::nullopt;
    if (!n || *n < 1) return Quote(item) + " has a bad step";
    if (range != "*" && range.find('-') == std::string_view::npos) {
      return Quote(item) + " needs * or a range before /";
    }
  }
  if (range == "*") return std::nullopt;
  std::vector<std::string_view> ends = Split(range, '-');
  if (ends.size() > 2) return Quote(item) + " is not a number or range";
  std::vector<int> values;
  for (std::string_view e : ends) {
    std::optional<int> v = AllDigits(e) ? ParseInt(e) : std::nullopt;
    if (!v) return Quote(item) + " is not a number or range";
    if (*v < lo || *v > hi) {
      return Quote(e) + " is out of range " + std::to_string(lo) + "-" + std::to_string(hi);
    }
    values.push_back(*v);
  }
  if (values.size() == 2 && values[0] > values[1]) return Quote(item) + " is a reversed range";
  return std::nullopt;
}

}  // namespace

std::string Quote(std::string_view text) {
  constexpr size_t kMax = 120;
  std::string out = "\"";
  for (char c : text.substr(0, kMax)) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += text.size() > kMax ? "\"..." : "\"";
  return out;
}

bool HasControlChar(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

std::optional<bool> ParseBool(std::string_view text) {
  const std::string v = Lower(text);
  if (v == "true" || v == "on" || v == "yes" || v == "1") return true;
  if (v == "false" || v == "off" || v == "no" || v == "0") return false;
  return std::nullopt;
}

std::optional<int> ParseInt(std::string_view text) {
  std::string_view digits = text.substr(!text.empty() && text[0] == '-' ? 1 : 0);
  if (!AllDigits(digits)) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) return text[0] == '-' ? INT_MIN : INT_MAX;
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view item : Split(text, ',')) {
    item = Trim(item);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

bool IsSize(std::string_view text) {
  // PostgreSQL's memory units, which it spells case-sensitively.
  size_t n = 0;
  while (n < text.size() && IsDigit(text[n])) ++n;
  if (n == 0 || n > 15) return false;
  std::string_view unit = Trim(text.substr(n));
  static constexpr std::array<std::string_view, 6> kUnits = {"", "B", "kB", "MB", "GB", "TB"};
  return std::find(kUnits.begin(), kUnits.end(), unit) != kUnits.end();
}

bool IsAbsolutePath(std::string_view text) {
  return !text.empty() && text[0] == '/' && !HasControlChar(text);
}

bool IsIpAddress(std::string_view text) {
  const std::string s(text);
  in6_addr buf;
  return inet_pton(AF_INET, s.c_str(), &buf) == 1 || inet_pton(AF_INET6, s.c_str(), &buf) == 1;
}

std::optional<std::string> CheckCidr(std::string_view item) {
  size_t slash = item.find('/');
  if (slash == std::string_view::npos) return Quote(item) + " has no /prefix";
  const std::string addr(item.substr(0, slash));
  std::string_view prefix = item.substr(slash + 1);
  const bool v6 = addr.find(':') != std::string::npos;
  in6_addr buf;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), &buf) != 1) {
    return Quote(addr) + " is not an IP address";
  }
  const int max = v6 ? 128 : 32;
  std::optional<int> bits = AllDigits(prefix) ? ParseInt(prefix) : std::nullopt;
  if (!bits || *bits > max) {
    return "prefix " + Quote(prefix) + " of " + Quote(item) + " is not 0-" + std::to_string(max);
  }
  return std::nullopt;
}

bool IsListName(std::string_view item) {
  return !item.empty() && item.size() <= 63 && std::all_of(item.begin(), item.end(), [](char c) {
    return IsAlpha(c) || IsDigit(c) || c == '_' || c == '-';
  });
}

std::optional<std::string> CheckCron(std::string_view text) {
  struct Field {
    const char* name;
    int lo, hi;
  };
  static constexpr std::array<Field, 5> kFields = {{{"minute", 0, 59},
                                                    {"hour", 0, 23},
                                                    {"day-of-month", 1, 31},
                                                    {"month", 1, 12},
                                                    {"day-of-week", 0, 7}}};
  std::vector<std::string_view> parts;
  for (std::string_view p : Split(text, ' ')) {
    for (std::string_view q : Split(p, '\t')) {
      if (!q.empty()) parts.push_back(q);
    }
  }
  if (parts.size() != kFields.size()) {
    return "expected 5 fields, got " + std::to_string(parts.size());
  }
  for (size_t i = 0; i < kFields.size(); ++i) {
    for (std::string_view item : Split(parts[i], ',')) {
      auto problem = CheckCronItem(item, kFields[i].lo, kFields[i].hi);
      if (problem) return std::string(kFields[i].name) + ": " + *problem;
    }
  }
  return std::nullopt;
}

bool IsPgName(std::string_view text) {
  // Quoted later with libpq, so any byte but NUL is fine here; 63 is NAMEDATALEN - 1. The
  // files a name reaches refuse control characters (value_rules.h).
  return !text.empty() && text.size() <= 63 && text.find('\0') == std::string_view::npos;
}

bool IsSlotName(std::string_view text) {
  return !text.empty() && text.size() <= 63 && std::all_of(text.begin(), text.end(), [](char c) {
    return IsLower(c) || IsDigit(c) || c == '_';
  });
}

bool IsOsUser(std::string_view text) {
  // The shadow-utils convention, plus upper case and the trailing '$' of machine accounts.
  if (!text.empty() && text.back() == '$') text.remove_suffix(1);
  if (text.empty() || text.size() > 32 || !(IsAlpha(text[0]) || text[0] == '_')) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return IsAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '.';
  });
}

bool IsTimeline(std::string_view text) {
  if (text == "latest" || text == "current") return true;
  std::optional<int> id = AllDigits(text) ? ParseInt(text) : std::nullopt;
  return id && *id >= 1;
}

}  // namespace pgrt
