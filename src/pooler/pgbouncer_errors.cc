#include "pooler/pgbouncer_errors.h"

#include <vector>

namespace pgrt {
namespace {

constexpr std::string_view kMarker = " pooler error: ";
// The messages the spreaker rules (awesome-prometheus-alerts) select by name.
constexpr const char* kStockMessages[] = {"no more connections allowed (max_client_conn)",
                                          "server conn crashed?"};

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// PgBouncer's address of a connection: "127.0.0.1:5432", "[::1]:5432", "unix:5432",
// "unix(1234):5432".
bool IsAddress(std::string_view a) {
  size_t colon = a.rfind(':');
  if (colon == std::string_view::npos || !IsDigits(a.substr(colon + 1))) return false;
  std::string_view host = a.substr(0, colon);
  if (host == "unix") return true;
  if (host.size() > 6 && host.substr(0, 5) == "unix(" && host.back() == ')')
    return IsDigits(host.substr(5, host.size() - 6));
  if (host.empty()) return false;
  for (char c : host)
    if (!IsHex(c) && c != '.' && c != ':' && c != '[' && c != ']') return false;
  return true;
}

// Whether the text before `marker_at` ends with a connection prefix's "@<address>".
bool PrefixEndsAt(std::string_view line, size_t marker_at) {
  std::string_view before = line.substr(0, marker_at);
  size_t at = before.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string_view address = before.substr(at + 1);
  return address.find(' ') == std::string_view::npos && IsAddress(address);
}

// Length of the valid UTF-8 sequence at s[i] (0: invalid).
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  return n;
}

// The message as a label value: printable, valid UTF-8, at most kMaxMessageBytes.
std::string Sanitized(std::string_view m) {
  std::string out;
  for (size_t i = 0; i < m.size();) {
    const size_t n = Utf8Length(m, i);  // 0: an invalid byte, replaced by one '?'
    const size_t step = n == 0 ? 1 : n;
    if (out.size() + step > PgbouncerErrorCounts::kMaxMessageBytes) break;
    const auto b = static_cast<unsigned char>(m[i]);
    if (n == 0 || b < 0x20 || b == 0x7f)
      out += '?';
    else
      out.append(m.substr(i, n));
    i += step;
  }
  return out;
}

}  // namespace

std::optional<std::string> PgbouncerErrorMessage(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<size_t> candidates;
  // Two are enough to know (a hostile line may hold many markers: each costs a scan).
  for (size_t p = line.find(kMarker); p != std::string_view::npos && candidates.size() < 2;
       p = line.find(kMarker, p + 1)) {
    if (PrefixEndsAt(line, p)) candidates.push_back(p);
  }
  if (candidates.empty()) return std::nullopt;
  // Two: a database or user name, or a startup parameter, that spells a second prefix. Which
  // one PgBouncer wrote cannot be told, and the name must not pick the label.
  if (candidates.size() > 1) return std::string(kPgbouncerOtherError);
  std::string_view message = line.substr(candidates[0] + kMarker.size());
  // " (age=12s)": how long the connection lived, not part of what went wrong.
  if (size_t age = message.rfind(" (age=");
      age != std::string_view::npos && message.size() > age + 8 && message.back() == ')' &&
      message[message.size() - 2] == 's' &&
      IsDigits(message.substr(age + 6, message.size() - age - 8)))
    message = message.substr(0, age);
  return Sanitized(message);
}

PgbouncerErrorCounts::PgbouncerErrorCounts() {
  for (const char* m : kStockMessages) counts_[m] = 0;
}

void PgbouncerErrorCounts::CountLine(std::string_view line) {
  std::optional<std::string> message = PgbouncerErrorMessage(line);
  if (!message) return;
  auto it = counts_.find(*message);
  if (it == counts_.end()) {
    const std::string key = counts_.size() < kMaxMessages ? *message : kPgbouncerOtherError;
    it = counts_.try_emplace(key, 0).first;
  }
  ++it->second;
}

}  // namespace pgrt
