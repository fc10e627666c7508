#include "api/bearer.h"

#include <cctype>

#include "util/text.h"

namespace pgrt {
namespace {

bool IsSpace(char ch) { return ch == ' ' || ch == '\t'; }

}  // namespace

std::optional<std::string> BearerToken(std::string_view header) {
  while (!header.empty() && IsSpace(header.front())) header.remove_prefix(1);
  while (!header.empty() && IsSpace(header.back())) header.remove_suffix(1);
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size() ||
      !EqualsIgnoringCase(header.substr(0, kScheme.size()), kScheme))
    return std::nullopt;
  std::string_view rest = header.substr(kScheme.size());
  if (!IsSpace(rest.front())) return std::nullopt;  // "Bearerxyz" is another scheme
  while (!rest.empty() && IsSpace(rest.front())) rest.remove_prefix(1);
  if (rest.empty()) return std::nullopt;
  return std::string(rest);
}

bool TokensEqual(std::string_view given, std::string_view expected) {
  if (expected.empty()) return false;
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  // Every byte of `given` is compared against some byte of `expected`, matching or not.
  for (size_t i = 0; i < given.size(); ++i)
    diff |= static_cast<unsigned char>(given[i] ^ expected[i % expected.size()]);
  return diff == 0;
}

}  // namespace pgrt
