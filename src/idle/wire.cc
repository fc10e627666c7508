#include "idle/wire.h"

#include <cstdint>

namespace pgrt {
namespace {

void PutField(std::string& out, char code, const std::string& value) {
  out.push_back(code);
  for (char c : value)
    if (c != '\0') out.push_back(c);  // a NUL would end the field early
  out.push_back('\0');
}

}  // namespace

std::string FatalError(const std::string& sqlstate, const std::string& message) {
  std::string body;
  PutField(body, 'S', "FATAL");
  PutField(body, 'V', "FATAL");
  PutField(body, 'C', sqlstate);
  PutField(body, 'M', message);
  body.push_back('\0');
  const uint32_t len = static_cast<uint32_t>(body.size() + 4);
  std::string out = "E";
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(len >> shift));
  return out + body;
}

}  // namespace pgrt
