// Readers of the files pgrt writes, each following the rules of the program that reads the
// file (cited per reader), for the tests of config/value_rules.h: a file is read back into
// entries {key, value}, where the key says where the value sits (its line, section, setting)
// but never holds a configured value, so two renderings of one file for two values of a
// variable have the same keys exactly when neither value added or removed a line, a key or a
// field.
#pragma once

#include <libpq-fe.h>
#include <stdio.h>

#include <cctype>
#include <memory>
#include <string>
#include <vector>

namespace pgrt::test {

struct Entry {
  std::string key;
  std::string value;
};

struct Parsed {
  std::vector<Entry> entries;
  std::string error;  // not empty: the reading program would refuse the file

  void Add(const std::string& key, const std::string& value) { entries.push_back({key, value}); }
  void Append(const Parsed& other, const std::string& prefix) {
    for (const Entry& e : other.entries) Add(prefix + e.key, e.value);
    if (error.empty() && !other.error.empty()) error = prefix + other.error;
  }
  std::vector<std::string> Keys() const {
    std::vector<std::string> out;
    for (const Entry& e : entries) out.push_back(e.key);
    return out;
  }
  const std::string* Find(const std::string& key) const {
    for (const Entry& e : entries)
      if (e.key == key) return &e.value;
    return nullptr;
  }
};

inline std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

inline bool IsConfSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f'; }

// postgresql.conf (PostgreSQL 15, guc-file.l): one `name [=] value [# comment]` per line; a
// quoted value is '...' where '' is a quote and GUC_scanstr turns \b \f \n \r \t, \ooo and
// \<any> back into bytes; a quoted value cannot hold a raw line break.
inline Parsed ReadConf(const std::string& text) {
  Parsed p;
  int n = 0;
  for (const std::string& line : SplitLines(text)) {
    ++n;
    size_t i = 0;
    while (i < line.size() && IsConfSpace(line[i])) ++i;
    if (i == line.size() || line[i] == '#') continue;
    size_t start = i;
    while (i < line.size() &&
           (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_' || line[i] == '.'))
      ++i;
    const std::string name = line.substr(start, i - start);
    if (name.empty()) return p.error = "line " + std::to_string(n) + ": no name", p;
    while (i < line.size() && IsConfSpace(line[i])) ++i;
    if (i < line.size() && line[i] == '=') ++i;
    while (i < line.size() && IsConfSpace(line[i])) ++i;
    std::string value;
    if (i < line.size() && line[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i];
        if (c == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
          value += '\'';
          i += 2;
        } else if (c == '\'') {
          ++i;
          closed = true;
          break;
        } else if (c == '\\' && i + 1 < line.size()) {
          char e = line[++i];
          if (e >= '0' && e <= '7') {
            int v = 0, digits = 0;
            while (digits < 3 && i < line.size() && line[i] >= '0' && line[i] <= '7') {
              v = v * 8 + (line[i] - '0');
              ++i;
              ++digits;
            }
            value += static_cast<char>(v);
            continue;
          }
          value += e == 'b'   ? '\b'
                   : e == 'f' ? '\f'
                   : e == 'n' ? '\n'
                   : e == 'r' ? '\r'
                   : e == 't' ? '\t'
                              : e;
          ++i;
        } else {
          value += c;
          ++i;
        }
      }
      if (!closed) return p.error = "line " + std::to_string(n) + ": unterminated string", p;
    } else {
      size_t vstart = i;
      while (i < line.size() && !IsConfSpace(line[i]) && line[i] != '#') ++i;
      value = line.substr(vstart, i - vstart);
      if (value.empty()) return p.error = "line " + std::to_string(n) + ": no value", p;
    }
    while (i < line.size() && IsConfSpace(line[i])) ++i;
    if (i < line.size() && line[i] != '#')
      return p.error = "line " + std::to_string(n) + ": junk after value of " + name, p;
    p.Add(name, value);
  }
  return p;
}

// pg_hba.conf, pg_ident.conf and PgBouncer's HBA file: whitespace-separated tokens, "..."
// quoting, # to the end of the line outside quotes. Keys are line and token numbers.
inline Parsed ReadTokenLines(const std::string& text) {
  Parsed p;
  int n = 0;
  for (const std::string& line : SplitLines(text)) {
    std::vector<std::string> tokens;
    std::string tok;
    bool in_token = false, quoted = false;
    for (size_t i = 0; i <= line.size(); ++i) {
      char c = i < line.size() ? line[i] : '\n';
      if (quoted) {
        if (c == '"')
          quoted = false;
        else if (c == '\n')
          return p.error = "unterminated quote: " + line, p;
        else
          tok += c;
        continue;
      }
      if (c == '#' || c == '\n' || c == ' ' || c == '\t' || c == '\r') {
        if (in_token) tokens.push_back(tok);
        tok.clear();
        in_token = false;
        if (c == '#' || c == '\n') break;
        continue;
      }
      in_token = true;
      if (c == '"')
        quoted = true;
      else
        tok += c;
    }
    if (tokens.empty()) continue;
    ++n;
    for (size_t t = 0; t < tokens.size(); ++t)
      p.Add("line" + std::to_string(n) + "/" + std::to_string(t), tokens[t]);
  }
  return p;
}

// pgbouncer.ini (libusual's parse_ini_file): comment lines start with # or ;, [section], a key of
// [A-Za-z0-9_.*-], '=', and the value raw to the end of the line, trailing space removed.
inline Parsed ReadPgbouncerIni(const std::string& text) {
  Parsed p;
  const char* s = text.c_str();
  int section = -1;
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (*s) {
    while (*s && space(*s)) ++s;
    if (*s == '#' || *s == ';') {
      while (*s && *s != '\n') ++s;
      continue;
    }
    if (*s == '[') {
      const char* start = ++s;
      while (*s && *s != ']' && *s != '\n') ++s;
      if (*s != ']') return p.error = "bad section", p;
      p.Add("section" + std::to_string(++section), std::string(start, s - start));
      ++s;
      continue;
    }
    if (!*s) break;
    const char* key = s;
    while (*s && (std::isalnum(static_cast<unsigned char>(*s)) ||
                  std::string("_.-*").find(*s) != std::string::npos))
      ++s;
    std::string k(key, s - key);
    while (*s == ' ' || *s == '\t') ++s;
    if (*s != '=') return p.error = "syntax error after key " + k, p;
    ++s;
    while (*s == ' ' || *s == '\t') ++s;
    const char* val = s;
    while (*s && *s != '\n') ++s;
    size_t len = s - val;
    while (len > 0 && space(val[len - 1])) --len;
    p.Add("section" + std::to_string(section) + "/" + k, std::string(val, len));
  }
  return p;
}

// A PgBouncer connection string ([databases] values, PgBouncer's loader.c): key=value pairs
// separated by spaces, a value either a word or '...' with '' for a quote.
inline Parsed ReadPgbouncerConnstring(const std::string& text) {
  Parsed p;
  size_t i = 0;
  while (true) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size()) break;
    size_t start = i;
    while (i < text.size() && text[i] != '=' && !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    std::string key = text.substr(start, i - start);
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size() || text[i] != '=') return p.error = "no = after " + key, p;
    ++i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::string value;
    if (i < text.size() && text[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          value += '\'';
          i += 2;
        } else if (text[i] == '\'') {
          ++i;
          closed = true;
          break;
        } else {
          value += text[i++];
        }
      }
      if (!closed) return p.error = "unterminated quote", p;
    } else {
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])))
        value += text[i++];
    }
    p.Add(key, value);
  }
  return p;
}

// pgbackrest.conf (pgBackRest's ini.c): each line trimmed; blank and # lines skipped;
// [section]; key=value split at the first '=', both trimmed; no quoting exists.
inline Parsed ReadPgbackrestConf(const std::string& text) {
  Parsed p;
  auto trim = [](std::string s) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && blank(s.front())) s.erase(s.begin());
    while (!s.empty() && blank(s.back())) s.pop_back();
    return s;
  };
  int section = -1;
  for (const std::string& raw : SplitLines(text)) {
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      p.Add("section" + std::to_string(++section), line.substr(1, line.size() - 2));
      continue;
    }
    size_t eq = line.find('=');
    if (section < 0 || eq == std::string::npos) return p.error = "bad line: " + line, p;
    p.Add("section" + std::to_string(section) + "/" + trim(line.substr(0, eq)),
          trim(line.substr(eq + 1)));
  }
  return p;
}

// A libpq passfile (PostgreSQL 15, fe-connect.c passwordFromFile): lines starting with # are
// comments; host:port:database:user:password, where a field that is exactly * matches
// anything (read back here as "<any>") and a backslash takes the next character literally.
inline Parsed ReadPassfile(const std::string& text) {
  Parsed p;
  int n = 0;
  for (std::string line : SplitLines(text)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    ++n;
    size_t i = 0;
    std::vector<std::string> fields;
    for (int f = 0; f < 5; ++f) {
      if (f < 4 && line.compare(i, 2, "*:") == 0) {
        fields.push_back("<any>");
        i += 2;
        continue;
      }
      std::string v;
      bool ended = false;
      while (i < line.size()) {
        char c = line[i];
        if (c == '\\' && i + 1 < line.size()) {
          v += line[i + 1];
          i += 2;
        } else if (c == ':') {
          ++i;
          ended = true;
          break;
        } else {
          v += c;
          ++i;
        }
      }
      if (f < 4 && !ended) return p.error = "line " + std::to_string(n) + " has too few fields", p;
      fields.push_back(v);
      if (f == 4 && ended) break;  // libpq stops the password at an unescaped ':'
    }
    static const char* kNames[] = {"host", "port", "dbname", "user", "password"};
    for (int f = 0; f < 5; ++f) p.Add("line" + std::to_string(n) + "/" + kNames[f], fields[f]);
  }
  return p;
}

// A libpq connection string, read by libpq itself.
inline Parsed ReadConninfo(const std::string& text) {
  Parsed p;
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(text.c_str(), &error), &PQconninfoFree);
  if (options == nullptr) {
    p.error = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    return p;
  }
  for (PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o)
    if (o->val != nullptr) p.Add(o->keyword, o->val);
  return p;
}

// archive_command/restore_command as postgres and /bin/sh run them: %% becomes %, %p and %f
// a path and a file name, then the shell splits the line into words (printed by the shell).
inline Parsed ReadShellCommand(const std::string& command) {
  Parsed p;
  std::string line;
  for (size_t i = 0; i < command.size(); ++i) {
    if (command[i] == '%' && i + 1 < command.size()) {
      char c = command[++i];
      line += c == 'p' ? "pg_wal/X" : c == 'f' ? "X" : c == '%' ? "%" : "";
    } else {
      line += command[i];
    }
  }
  // `set --` turns the words into "$@" without running the command; printf shows them.
  const std::string script = "set -- " + line + "\nprintf '%s\\0' \"$@\"";
  FILE* f = ::popen(script.c_str(), "r");
  if (f == nullptr) return p.error = "popen failed", p;
  std::string out;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  if (::pclose(f) != 0) return p.error = "the shell refused: " + line, p;
  int w = 0;
  size_t start = 0;
  for (size_t nul; (nul = out.find('\0', start)) != std::string::npos; start = nul + 1)
    p.Add("word" + std::to_string(w++), out.substr(start, nul - start));
  return p;
}

// `pgrt config`'s output: NAME=value  # source, one variable per line.
inline Parsed ReadConfigOutput(const std::string& text) {
  Parsed p;
  for (const std::string& line : SplitLines(text)) {
    size_t eq = line.find('=');
    size_t hash = line.rfind("  # ");
    if (eq == std::string::npos || hash == std::string::npos || hash < eq)
      return p.error = "not NAME=value  # source: " + line, p;
    for (size_t i = 0; i < eq; ++i) {
      char c = line[i];
      if (!(std::isupper(static_cast<unsigned char>(c)) ||
            std::isdigit(static_cast<unsigned char>(c)) || c == '_'))
        return p.error = "not a variable name: " + line, p;
    }
    p.Add(line.substr(0, eq), line.substr(eq + 1, hash - eq - 1));
  }
  return p;
}

}  // namespace pgrt::test
