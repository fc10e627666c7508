// The descriptor table: every environment variable pgrt reads, described once.
//
// Parsing (LoadConfig), `pgrt config` and docs/configuration.md are all driven from
// Descriptors(); adding a variable means adding one row in descriptors.cc and one member
// in Config. Internal to src/config/.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"

namespace pgrt {

enum class VarType {
  kText,      // free text, one line
  kSecret,    // free text, never shown; may come from X_FILE
  kInt,       // integer within [min, max]
  kPort,      // 1..65535
  kBool,      // true/false/on/off/yes/no/1/0, any case
  kEnum,      // one of `allowed`, exact spelling
  kSize,      // PostgreSQL memory size: 128MB, 1GB, 8kB or a plain integer
  kPath,      // absolute path
  kAddress,   // IPv4 or IPv6 literal
  kCidrList,  // comma-separated CIDRs
  kNameList,  // comma-separated names such as extension names
  kCron,      // 5-field cron expression
  kPgName,    // role or database name: 1-63 bytes
  kSlotName,  // replication slot name: [a-z0-9_]{1,63}
  kOsUser,    // operating-system user name
  kTimeline,  // recovery_target_timeline: latest, current or a timeline ID
};

// Where in Config a parsed value lands.
using Binding = std::variant<std::string Config::*, int Config::*, bool Config::*,
                             std::vector<std::string> Config::*, ReplicationMode Config::*>;

struct Descriptor {
  const char* name;
  VarType type;
  const char* default_text;  // "" when there is none
  Binding binding;
  const char* doc;
  std::vector<std::string> allowed = {};  // kEnum only
  int min = 0;                            // kInt and kPort only
  int max = 0;
  bool required = false;
  bool from_file = false;  // may come from X_FILE, as in the official postgres image

  bool secret() const { return type == VarType::kSecret; }
  // X_FILE names a file holding the value: every secret, and the variables the official
  // postgres image reads that way (POSTGRES_USER, POSTGRES_DB, POSTGRES_INITDB_ARGS).
  bool file_ok() const { return secret() || from_file; }
};

// All variables, in documentation order.
const std::vector<Descriptor>& Descriptors();
const Descriptor* FindDescriptor(std::string_view name);

// What a variable accepts, for error messages and docs ("1-65535", "text, json").
// Empty when anything goes.
std::string AllowedText(const Descriptor& d);

// Parses `text` (non-empty) and stores it in `config`. Returns the problem otherwise,
// without the variable's name; for secrets the problem never quotes the value.
std::optional<std::string> ApplyValue(const Descriptor& d, const std::string& text, Config& config);

// The value as it would be written back to the environment; secrets unmasked.
std::string RenderValue(const Descriptor& d, const Config& config);

enum class Source { kDefault, kEnv, kFile };
const char* ToString(Source s);

// Where a variable's value comes from: X_FILE (when file_ok()), X, or the default.
// Empty values count as unset.
Source SourceOf(const Descriptor& d, const Environment& env);
std::string FileVariable(const Descriptor& d);  // "X_FILE"

}  // namespace pgrt
