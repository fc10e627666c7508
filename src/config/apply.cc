// Type dispatch between descriptor text and Config members, both directions.
#include <algorithm>
#include <string>

#include "config/descriptors.h"
#include "config/values.h"

namespace pgrt {
namespace {

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

// `"value" what (allowed: ...)`, the shape of every problem with a value.
std::string Problem(const Descriptor& d, std::string_view value, const std::string& what) {
  std::string out = Quote(value) + " " + what;
  std::string allowed = AllowedText(d);
  if (!allowed.empty()) out += " (allowed: " + allowed + ")";
  return out;
}

// Checks text-valued types; nothing when `text` is fine.
std::optional<std::string> CheckText(const Descriptor& d, const std::string& text) {
  switch (d.type) {
    case VarType::kSecret:
      // Never quote a secret. Line breaks would not survive .pgpass or conninfo files.
      if (text.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
        return "contains a line break or NUL byte";
      }
      return std::nullopt;
    case VarType::kText:
      if (HasControlChar(text)) return Problem(d, text, "contains a control character");
      return std::nullopt;
    case VarType::kSize:
      if (!IsSize(text)) return Problem(d, text, "is not a size");
      return std::nullopt;
    case VarType::kPath:
      if (!IsAbsolutePath(text)) return Problem(d, text, "is not an absolute path");
      return std::nullopt;
    case VarType::kAddress:
      if (!IsIpAddress(text)) return Problem(d, text, "is not an IP address");
      return std::nullopt;
    case VarType::kCron:
      if (auto why = CheckCron(text)) return Problem(d, text, "is not a cron expression: " + *why);
      return std::nullopt;
    case VarType::kPgName:
      if (!IsPgName(text)) return Problem(d, text, "is not a valid name");
      return std::nullopt;
    case VarType::kSlotName:
      if (!IsSlotName(text)) return Problem(d, text, "is not a valid slot name");
      return std::nullopt;
    case VarType::kOsUser:
      if (!IsOsUser(text)) return Problem(d, text, "is not a valid user name");
      return std::nullopt;
    case VarType::kTimeline:
      if (!IsTimeline(text)) return Problem(d, text, "is not a timeline");
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::optional<std::string> ApplyList(const Descriptor& d, const std::string& text, Config& config) {
  std::vector<std::string> items = SplitList(text);
  for (const std::string& item : items) {
    if (d.type == VarType::kCidrList) {
      if (auto why = CheckCidr(item)) return Problem(d, text, "is not a CIDR list: " + *why);
    } else if (!IsListName(item)) {
      return Problem(d, item, "is not a valid name");
    }
  }
  config.*std::get<std::vector<std::string> Config::*>(d.binding) = std::move(items);
  return std::nullopt;
}

std::optional<std::string> ApplyEnum(const Descriptor& d, const std::string& text, Config& config) {
  if (std::find(d.allowed.begin(), d.allowed.end(), text) == d.allowed.end()) {
    return Problem(d, text, "is not allowed");
  }
  if (auto* member = std::get_if<ReplicationMode Config::*>(&d.binding)) {
    for (ReplicationMode m :
         {ReplicationMode::kStandalone, ReplicationMode::kPrimary, ReplicationMode::kReplica}) {
      if (text == ToString(m)) config.*(*member) = m;
    }
    return std::nullopt;
  }
  config.*std::get<std::string Config::*>(d.binding) = text;
  return std::nullopt;
}

}  // namespace

std::string AllowedText(const Descriptor& d) {
  switch (d.type) {
    case VarType::kInt:
    case VarType::kPort:
      return std::to_string(d.min) + "-" + std::to_string(d.max);
    case VarType::kBool:
      return "true, false, on, off, yes, no, 1, 0";
    case VarType::kEnum:
      return Join(d.allowed, ", ");
    case VarType::kSize:
      return "an integer with an optional unit B, kB, MB, GB or TB";
    case VarType::kAddress:
      return "an IPv4 or IPv6 address";
    case VarType::kCidrList:
      return "comma-separated CIDRs such as 10.0.0.0/8, fd00::/8";
    case VarType::kNameList:
      return "comma-separated names of letters, digits, _ and -";
    case VarType::kCron:
      return "minute hour day-of-month month day-of-week; each *, */n, a, a-b, a-b/n or a list";
    case VarType::kPgName:
      return "1-63 bytes (characters: docs/security.md)";
    case VarType::kSlotName:
      return "1-63 characters of a-z, 0-9 and _";
    case VarType::kOsUser:
      return "a user name such as postgres";
    case VarType::kTimeline:
      return "latest, current or a timeline ID";
    default:
      return "";
  }
}

std::optional<std::string> ApplyValue(const Descriptor& d, const std::string& text,
                                      Config& config) {
  switch (d.type) {
    case VarType::kInt:
    case VarType::kPort: {
      std::optional<int> v = ParseInt(text);
      if (!v) return Problem(d, text, "is not a number");
      if (*v < d.min || *v > d.max) return Problem(d, text, "is out of range");
      config.*std::get<int Config::*>(d.binding) = *v;
      return std::nullopt;
    }
    case VarType::kBool: {
      std::optional<bool> v = ParseBool(text);
      if (!v) return Problem(d, text, "is not a boolean");
      config.*std::get<bool Config::*>(d.binding) = *v;
      return std::nullopt;
    }
    case VarType::kEnum:
      return ApplyEnum(d, text, config);
    case VarType::kCidrList:
    case VarType::kNameList:
      return ApplyList(d, text, config);
    default:
      if (auto problem = CheckText(d, text)) return problem;
      config.*std::get<std::string Config::*>(d.binding) = text;
      return std::nullopt;
  }
}

std::string RenderValue(const Descriptor& d, const Config& config) {
  struct Visitor {
    const Config& c;
    std::string operator()(std::string Config::*m) const { return c.*m; }
    std::string operator()(int Config::*m) const { return std::to_string(c.*m); }
    std::string operator()(bool Config::*m) const { return c.*m ? "true" : "false"; }
    std::string operator()(std::vector<std::string> Config::*m) const { return Join(c.*m, ","); }
    std::string operator()(ReplicationMode Config::*m) const { return ToString(c.*m); }
  };
  return std::visit(Visitor{config}, d.binding);
}

const char* ToString(Source s) {
  switch (s) {
    case Source::kDefault:
      return "default";
    case Source::kEnv:
      return "env";
    case Source::kFile:
      return "file";
  }
  return "?";
}

std::string FileVariable(const Descriptor& d) { return std::string(d.name) + "_FILE"; }

Source SourceOf(const Descriptor& d, const Environment& env) {
  auto set = [&env](const std::string& name) {
    auto it = env.find(name);
    return it != env.end() && !it->second.empty();
  };
  if (d.file_ok() && set(FileVariable(d))) return Source::kFile;
  if (set(d.name)) return Source::kEnv;
  return Source::kDefault;
}

}  // namespace pgrt
