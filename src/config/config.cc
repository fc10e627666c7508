#include "config/config.h"

#include <unistd.h>

#include <set>
#include <utility>

#include "config/descriptors.h"
#include "config/validate.h"
#include "config/value_rules.h"
#include "util/fs.h"

namespace pgrt {
namespace {

std::string Get(const Environment& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Docker and Kubernetes secret files usually end in a newline that is not part of the secret.
std::string StripTrailingNewlines(std::string s) {
  while (!s.empty() && s.back() == '\n') {
    s.pop_back();
    if (!s.empty() && s.back() == '\r') s.pop_back();
  }
  return s;
}

// Free text read from a file is split into words (POSTGRES_INITDB_ARGS): its line breaks and
// tabs separate words as spaces do, as when the official image's entrypoint expands it.
std::string LineBreaksAsSpaces(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

// Loads one variable into `config`; returns the problem line, if any.
std::optional<std::string> LoadOne(const Descriptor& d, const Environment& env, Config& config) {
  const std::string name = d.name;
  std::string blame = name;  // the variable the value came from
  std::string text = Get(env, name);
  if (d.file_ok() && !Get(env, FileVariable(d)).empty()) {
    const std::string file_var = FileVariable(d);
    if (!text.empty()) return name + ": both " + name + " and " + file_var + " are set; use one";
    const std::string path = Get(env, file_var);
    Result<std::string> content = ReadFile(path);
    if (!content.ok()) return file_var + ": " + content.status().message();
    text = StripTrailingNewlines(std::move(*content));
    // An empty file for an optional setting (no initdb arguments) is the setting unset.
    if (text.empty() && (d.secret() || d.required)) return file_var + ": " + path + " is empty";
    if (d.type == VarType::kText) text = LineBreaksAsSpaces(std::move(text));
    blame = file_var;
  }
  if (text.empty()) {
    if (d.required) {
      return name + ": required" + (d.file_ok() ? " (or " + FileVariable(d) + ")" : "");
    }
    if (*d.default_text == '\0') return std::nullopt;  // the member's initializer stands
    text = d.default_text;
    blame = name + " (default)";
  }
  if (auto problem = ApplyValue(d, text, config)) return blame + ": " + *problem;
  // What the files this value reaches cannot carry (value_rules.h).
  if (auto problem = CheckValueCharacters(d.name, text, d.secret())) return blame + ": " + *problem;
  return std::nullopt;
}

// The pass-through variables pgrt also writes into a file (PGBACKREST_STANZA); the others only
// reach pgBackRest's environment.
void CheckPassThrough(const Config& config, std::vector<std::string>& problems) {
  for (const auto& [name, value] : config.pgbackrest_env) {
    if (auto problem = CheckValueCharacters(name, value, false))
      problems.push_back(name + ": " + *problem);
  }
}

// X_FILE of a variable that may come from a file.
bool IsFileVariable(std::string_view name) {
  constexpr std::string_view kSuffix = "_FILE";
  if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return false;
  }
  const Descriptor* d = FindDescriptor(name.substr(0, name.size() - kSuffix.size()));
  return d != nullptr && d->file_ok();
}

// PGBACKREST_* pass through; other names in our prefixes that we do not know are remembered
// for a warning rather than refused, so that a newer image's variables do not stop an older
// pgrt.
void CollectOthers(const Environment& env, Config& config) {
  for (const auto& [name, value] : env) {
    if (StartsWith(name, "PGBACKREST_")) {
      config.pgbackrest_env[name] = value;
    } else if ((StartsWith(name, "POSTGRES_") || StartsWith(name, "PGRT_") ||
                StartsWith(name, "PGBOUNCER_")) &&
               FindDescriptor(name) == nullptr && !IsFileVariable(name)) {
      config.unknown_variables.push_back(name);
    }
  }
}

}  // namespace

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;  // not NAME=value; getenv could not see it either
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));  // first one wins, as in getenv
  }
  return env;
}

const char* ToString(ReplicationMode m) {
  switch (m) {
    case ReplicationMode::kStandalone:
      return "standalone";
    case ReplicationMode::kPrimary:
      return "primary";
    case ReplicationMode::kReplica:
      return "replica";
  }
  return "?";
}

Result<Config> LoadConfig(const Environment& env) {
  Config config;
  std::vector<std::string> problems;
  std::set<std::string> bad;  // variables whose own value is wrong
  for (const Descriptor& d : Descriptors()) {
    if (auto problem = LoadOne(d, env, config)) {
      problems.push_back(std::move(*problem));
      bad.insert(d.name);
    }
  }
  CollectOthers(env, config);
  CheckPassThrough(config, problems);
  for (std::string& problem : CheckCrossField(config, bad)) problems.push_back(std::move(problem));
  if (problems.empty()) return config;
  std::string message;
  for (const std::string& p : problems) message += (message.empty() ? "" : "\n") + p;
  return Status::Error(std::move(message));
}

}  // namespace pgrt
