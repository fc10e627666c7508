#include "ha/member.h"

#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace pgrt {

std::string RenderMember(const Member& m) {
  nlohmann::json j = {{"name", m.name},
                      {"role", m.role},
                      {"state", m.state},
                      {"host", m.host},
                      {"port", m.port},
                      {"api_url", m.api_url},
                      {"application_name", m.application_name},
                      {"timeline", m.timeline},
                      {"lsn", FormatLsn(m.lsn)},
                      {"ready", m.ready},
                      {"checkpointed", m.checkpointed},
                      {"rewind_needed", m.rewind_needed}};
  return j.dump();
}

Result<Member> ParseMember(const std::string& json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("not a JSON object");
  Member m;
  try {
    m.name = j.at("name").get<std::string>();
    m.role = j.value("role", std::string("unknown"));
    m.state = j.value("state", std::string());
    m.host = j.at("host").get<std::string>();
    m.port = j.value("port", 5432);
    m.api_url = j.value("api_url", std::string());
    m.application_name = j.value("application_name", std::string());
    m.timeline = j.value("timeline", 0);
    m.lsn = ParseLsn(j.value("lsn", std::string("0/0"))).value_or(0);
    m.ready = j.value("ready", false);
    m.checkpointed = j.value("checkpointed", true);
    m.rewind_needed = j.value("rewind_needed", false);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("member record: ") + e.what());
  }
  if (m.port < 1 || m.port > 65535) return Status::InvalidArgument("member record: bad port");
  return m;
}

std::optional<uint64_t> ParseLsn(const std::string& text) {
  unsigned hi = 0, lo = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%X/%X%c", &hi, &lo, &tail) != 2) return std::nullopt;
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

std::string FormatLsn(uint64_t lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

}  // namespace pgrt
