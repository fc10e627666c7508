// `pgrt config` and the reference table of docs/configuration.md, both from the descriptors.
#include <string>

#include "config/config.h"
#include "config/descriptors.h"
#include "config/values.h"

namespace pgrt {
namespace {

constexpr const char* kMask = "********";

// pgBackRest's own variables are not in the table, so their secrecy is guessed from the name
// (PGBACKREST_REPO1_CIPHER_PASS, PGBACKREST_REPO1_S3_KEY_SECRET, ...).
bool LooksSecret(const std::string& name) {
  for (const char* word : {"PASS", "SECRET", "KEY", "TOKEN"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

// A control character other than tab: printed as it is, it could end the line or rewrite it
// on a terminal.
bool BreaksALine(const std::string& value) {
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return true;
  }
  return false;
}

std::string EscapeCell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string RenderEffectiveConfig(const Config& config, const Environment& env) {
  std::string out;
  for (const Descriptor& d : Descriptors()) {
    std::string value = RenderValue(d, config);
    if (d.secret() && !value.empty()) {
      value = kMask;
    } else if (BreaksALine(value)) {
      // LoadConfig refuses these (value_rules.h); a Config built otherwise still prints one
      // variable per line.
      value = Quote(value);
    }
    out += std::string(d.name) + "=" + value + "  # " + ToString(SourceOf(d, env)) + "\n";
  }
  for (const auto& [name, raw] : config.pgbackrest_env) {
    std::string value = raw;
    if (LooksSecret(name) && !value.empty()) {
      value = kMask;
    } else if (BreaksALine(value)) {
      value = Quote(value);  // keep one variable per line
    }
    out += name + "=" + value + "  # env\n";
  }
  return out;
}

std::string RenderConfigReference() {
  std::string out = "| Variable | Default | Description |\n|---|---|---|\n";
  for (const Descriptor& d : Descriptors()) {
    std::string doc = d.doc;
    std::string allowed = AllowedText(d);
    if (!allowed.empty()) doc += " Allowed: " + allowed + ".";
    if (d.required) doc += " (required)";
    if (d.secret())
      doc += " (secret, _FILE ok)";
    else if (d.file_ok())
      doc += " (_FILE ok)";
    std::string def = *d.default_text ? std::string("`") + d.default_text + "`" : "";
    out +=
        "| `" + std::string(d.name) + "` | " + EscapeCell(def) + " | " + EscapeCell(doc) + " |\n";
  }
  out += "| `PGBACKREST_*` |  | Passed to pgBackRest as they are. |\n";
  return out;
}

}  // namespace pgrt
