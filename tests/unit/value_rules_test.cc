// config/value_rules.h, row by row: for each variable, hostile values (line breaks, quotes,
// backslashes, separators, control characters, very long) are either refused by LoadConfig
// with a problem naming the variable, or every file the variable reaches, rendered by pgrt's
// own functions and read back by that file's rules (file_readers.h), has the same lines, keys
// and fields as with a plain value and gives the value back exactly.
#include "config/value_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "backup/dump.h"
#include "backup/pgbackrest.h"
#include "config/config.h"
#include "config/descriptors.h"
#include "file_readers.h"
#include "pgdata/layout.h"
#include "pgdata/memory.h"
#include "pgdata/settings.h"
#include "pooler/pgbouncer_files.h"
#include "replication/conninfo.h"
#include "util/fs.h"

namespace pgrt {
namespace {

using test::Parsed;

constexpr const char* kStamp = "20240131T030000Z";

// Every file in use at once: a replica with PgBouncer, TLS, pgBackRest and dumps.
Environment EverythingOn(const std::string& variable) {
  Environment env = {{"POSTGRES_USER", "app"},
                     {"POSTGRES_PASSWORD", "pw"},
                     {"POSTGRES_DB", "appdb"},
                     {"PGDATA", "/srv/data"},
                     {"PGRT_SOCKET_DIR", "/srv/sock"},
                     {"POSTGRES_REPLICATION_MODE", "replica"},
                     {"POSTGRES_PRIMARY_HOST", "primary.example"},
                     {"POSTGRES_REPLICATION_PASSWORD", "rpw"},
                     {"POSTGRES_TLS_CERT_FILE", "/srv/tls/server.crt"},
                     {"POSTGRES_TLS_KEY_FILE", "/srv/tls/server.key"},
                     {"POSTGRES_TLS_CA_FILE", "/srv/tls/ca.crt"},
                     {"PGBOUNCER_ENABLED", "true"},
                     {"PGRT_BACKUP", "pgbackrest"},
                     {"PGRT_RESTORE_FROM", "pgbackrest"},
                     {"PGRT_DUMP_DIR", "/srv/dumps"},
                     {"PGBACKREST_STANZA", "main"},
                     {"PGRT_ETCD_CERT_FILE", "/srv/tls/etcd.crt"},
                     {"PGRT_ETCD_KEY_FILE", "/srv/tls/etcd.key"},
                     {"PGRT_ETCD_USERNAME", "pgrt"},
                     {"PGRT_ETCD_PASSWORD", "epw"},
                     {"PGRT_API_TLS_CERT_FILE", "/srv/tls/api.crt"},
                     {"PGRT_API_TLS_KEY_FILE", "/srv/tls/api.key"},
                     {"PGRT_API_TLS_CA_FILE", "/srv/tls/clients.crt"},
                     {"PGRT_API_TLS_CLIENT_CERT_FILE", "/srv/tls/client.crt"},
                     {"PGRT_API_TLS_CLIENT_KEY_FILE", "/srv/tls/client.key"}};
  // POSTGRES_ARCHIVE_COMMAND and _RESTORE_COMMAND are written only without pgBackRest.
  if (variable == "POSTGRES_ARCHIVE_COMMAND" || variable == "POSTGRES_RESTORE_COMMAND") {
    env.erase("PGRT_BACKUP");
    env.erase("PGRT_RESTORE_FROM");
  }
  return env;
}

// A plain value each variable accepts, into which the hostile characters are put.
std::string PlainValue(const std::string& variable) {
  static const std::map<std::string, std::string> kSamples = {
      {"POSTGRES_PRIMARY_CONNINFO_EXTRA", "sslmode=prefer"},
      {"POSTGRES_SHARED_BUFFERS", "128MB"},
      {"POSTGRES_EXTENSIONS", "pg_trgm"},
      {"PGRT_BACKUP_SCHEDULE", "0 3 * * *"},
      {"PGRT_DUMP_SCHEDULE", "0 4 * * *"},
      {"PGRT_RESTORE_FROM", "pgbackrest"},
      {"PGRT_RESTORE_TARGET_TIME", "2024-01-31 12:00:00+00"},
      {"PGRT_RESTORE_TARGET_LSN", "0/3000060"},
      {"PGRT_RESTORE_TARGET_XID", "1234"},
      {"PGBACKREST_STANZA", "main"},
      {"POSTGRES_PRIMARY_HOST", "primary.example"},
  };
  if (auto it = kSamples.find(variable); it != kSamples.end()) return it->second;
  const Descriptor* d = FindDescriptor(variable);
  if (d == nullptr) return "x";
  switch (d->type) {
    case VarType::kPgName:
      return "n";
    case VarType::kSecret:
      return "s";
    case VarType::kPath:
      return "/srv/p";
    case VarType::kText:
      return *d->default_text ? d->default_text : "t";
    default:
      return d->default_text;
  }
}

std::vector<std::string> HostileValues(const std::string& plain) {
  static const std::vector<std::string> kParts = {"\n",
                                                  "\r",
                                                  "\r\n",
                                                  "'",
                                                  "''",
                                                  "\"",
                                                  "\\",
                                                  "\\'",
                                                  "=",
                                                  "#",
                                                  ";",
                                                  ":",
                                                  ",",
                                                  "*",
                                                  "%",
                                                  "%p",
                                                  "$x",
                                                  "`id`",
                                                  "[",
                                                  "]",
                                                  "\t",
                                                  "\x01",
                                                  "\x1b",
                                                  "\x7f",
                                                  " ",
                                                  "  ",
                                                  "\xc3\xa9",
                                                  "\n[global]\npg1-host=evil",
                                                  "\nhost all all all trust",
                                                  "\n*:*:*:*:stolen",
                                                  "' host='evil",
                                                  " host=evil",
                                                  "\nlisten_port = 1",
                                                  "\nPOSTGRES_USER=root"};
  std::vector<std::string> out;
  for (const std::string& part : kParts) {
    for (const std::string& v : {plain + part + "z", plain + part, part + plain}) {
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
  }
  out.push_back(plain + std::string(5000, 'x'));
  for (const char* exact : {"*", "#z", "a' \"b\\c=d#e;f:g*h"}) out.push_back(exact);
  return out;
}

// The value the Config holds for `variable`: what the files must give back.
std::string Stored(const std::string& variable, const Config& c) {
  if (const Descriptor* d = FindDescriptor(variable)) return RenderValue(*d, c);
  auto it = c.pgbackrest_env.find(variable);
  return it == c.pgbackrest_env.end() ? "" : it->second;
}

// Every file pgrt writes for `c`, rendered by pgrt's own functions and read back. The archive
// commands are read by a real /bin/sh, so only for the rows whose value reaches them.
std::map<Sink, Parsed> RenderAll(const Config& c, const Environment& env, bool with_shell) {
  std::map<Sink, Parsed> out;
  const NodeLayout l = NodeLayout::From(c);
  const std::string cert = JoinPath(l.tls_dir, "server.crt");
  const std::string key = JoinPath(l.tls_dir, "server.key");
  const std::string ca = JoinPath(l.tls_dir, "ca.crt");

  SettingsInput in{.config = c,
                   .memory = SizeMemory(uint64_t{1} << 30, c.max_connections),
                   .socket_dir = c.socket_dir,
                   .tls_cert = cert,
                   .tls_key = key,
                   .tls_ca = ca};
  in.primary_conninfo = PrimaryConninfo(c, ConfiguredTopology(c).upstream, l.passfile,
                                        ReplicaApplicationName(c, "node-1"));
  in.primary_slot_name = c.replication_slot_name;
  if (PgBackRestEnabled(c)) {
    // A restore's form, which also names the scratch directory inside PGDATA.
    in.archive_command = ArchivePushCommand(c, l.init_scratch);
    in.restore_command = ArchiveGetCommand(c, l.init_scratch);
  }
  Parsed settings = test::ReadConf(RenderSettingsFile(in));
  Parsed archive;
  for (const char* name : {"archive_command", "restore_command"}) {
    if (const std::string* v = settings.Find(name); v != nullptr && with_shell)
      archive.Append(test::ReadShellCommand(*v), std::string(name) + "/");
  }
  if (const std::string* v = settings.Find("primary_conninfo"))
    settings.Append(test::ReadConninfo(*v), "primary_conninfo/");
  out[Sink::kSettings] = settings;
  out[Sink::kArchiveCommand] = archive;

  out[Sink::kHba] = test::ReadTokenLines(RenderHbaFile(c));
  out[Sink::kIdent] = test::ReadTokenLines(RenderIdentFile(c, c.run_as));

  Result<PoolerFiles> pooler = RenderPoolerFiles(
      PoolerFilesInput{c, PoolerPaths::From(c), cert, key, ca, "SCRAM-SHA-256$x"});
  if (pooler.ok()) {
    Parsed ini = test::ReadPgbouncerIni(pooler->ini);
    if (const std::string* v = ini.Find("section0/*"))
      ini.Append(test::ReadPgbouncerConnstring(*v), "databases/");
    out[Sink::kPgbouncerIni] = ini;
    out[Sink::kPgbouncerHba] = test::ReadTokenLines(pooler->hba);
  } else {
    out[Sink::kPgbouncerIni].error = pooler.status().message();
    out[Sink::kPgbouncerHba].error = pooler.status().message();
  }

  out[Sink::kPgbackrestConf] = test::ReadPgbackrestConf(RenderPgBackRestConfig(c));

  Parsed passfiles;
  passfiles.Append(test::ReadPassfile(LocalPassfileLine(c)), "local/");
  passfiles.Append(test::ReadPassfile(PassfileLine(c, ConfiguredTopology(c).upstream)),
                   "replication/");
  out[Sink::kPassfile] = passfiles;

  Parsed conninfo;
  conninfo.Append(test::ReadConninfo(in.primary_conninfo), "primary/");
  conninfo.Append(test::ReadConninfo(LocalConninfo(c, c.db)), "dump/");
  out[Sink::kConninfo] = conninfo;

  // initialize.cc writes the password and a line break; initdb reads the first line and
  // strips its line break.
  Parsed pwfile;
  std::vector<std::string> lines = test::SplitLines(c.password + "\n");
  if (lines.size() != 1) pwfile.error = "the password file has " + std::to_string(lines.size());
  if (!lines.empty()) pwfile.Add("password", lines[0]);
  out[Sink::kInitdbPwfile] = pwfile;

  // One path component pgrt recognises as its own, decoded back to the database's name.
  Parsed dump;
  const std::string name = DumpFileName(c.db, kStamp);
  if (name.find('/') != std::string::npos || name[0] == '.' || !IsOwnDumpFile(name) ||
      name.size() > 255)
    dump.error = "not a file name of pgrt's own: " + name;
  std::string decoded;
  const std::string encoded = name.substr(0, name.size() - std::string("-.dump").size() - 16);
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      decoded += static_cast<char>(std::stoi(encoded.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      decoded += encoded[i];
    }
  }
  dump.Add("database", decoded);
  out[Sink::kDumpFileName] = dump;

  out[Sink::kConfigOutput] = test::ReadConfigOutput(RenderEffectiveConfig(c, env));
  return out;
}

// The keys of `p`; with `verbatim`, those the user's conninfo fragment may set left out, and
// pgrt's own connection keys checked to be there.
std::vector<std::string> KeysOutsideUsersConninfo(const Parsed& p, bool verbatim) {
  if (!verbatim) return p.Keys();
  std::vector<std::string> out;
  for (const std::string& k : p.Keys()) {
    if (k.rfind("primary/", 0) != 0 && k.rfind("primary_conninfo/", 0) != 0) out.push_back(k);
  }
  for (const char* prefix : {"primary/", "primary_conninfo/"}) {
    bool any = false;
    for (const std::string& k : p.Keys()) any = any || k.rfind(prefix, 0) == 0;
    if (!any) continue;
    for (const char* own : {"host", "port", "user", "passfile", "application_name"})
      EXPECT_NE(p.Find(std::string(prefix) + own), nullptr) << prefix << own;
  }
  return out;
}

bool AnyValueContains(const Parsed& p, const std::string& wanted) {
  return std::any_of(p.entries.begin(), p.entries.end(), [&](const test::Entry& e) {
    return e.value.find(wanted) != std::string::npos;
  });
}

// The problem names the variable (or its _FILE twin) at the start of a line.
bool NamesVariable(const std::string& message, const std::string& variable) {
  for (const std::string& line : test::SplitLines(message)) {
    if (line.rfind(variable + ":", 0) == 0 || line.rfind(variable + " (default):", 0) == 0)
      return true;
  }
  return false;
}

std::string Printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 60)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return s.size() > 60 ? out + "..." : out;
}

TEST(ValueRules, EveryVariableHasExactlyOneRow) {
  std::set<std::string> rows;
  for (const ValueRule& r : ValueRules()) {
    EXPECT_TRUE(rows.insert(r.variable).second) << r.variable << " has two rows";
    EXPECT_FALSE(r.reaches.empty()) << r.variable;
  }
  for (const Descriptor& d : Descriptors())
    EXPECT_EQ(rows.count(d.name), 1u) << d.name << " has no row in value_rules.cc";
  EXPECT_EQ(rows.size(), Descriptors().size() + 1) << "one row per variable and PGBACKREST_STANZA";
}

TEST(ValueRules, SecretsAreMaskedInTheOutputAndEverythingElseIsPrinted) {
  for (const ValueRule& r : ValueRules()) {
    const Descriptor* d = FindDescriptor(r.variable);
    const Carry want = d != nullptr && d->secret() ? Carry::kMasked : Carry::kPrinted;
    bool found = false;
    for (const Reach& reach : r.reaches)
      found = found || (reach.sink == Sink::kConfigOutput && reach.carry == want);
    EXPECT_TRUE(found) << r.variable;
  }
}

TEST(ValueRules, HostileValuesAreRefusedNamingTheVariableOrReadBackExactlyFromEveryFile) {
  for (const ValueRule& row : ValueRules()) {
    const std::string var = row.variable;
    const std::string plain = PlainValue(var);
    Environment base_env = EverythingOn(var);
    base_env[var] = plain;
    Result<Config> base = LoadConfig(base_env);
    ASSERT_TRUE(base.ok()) << var << "=" << plain << ": " << base.status().message();
    bool with_shell = false;
    for (const Reach& r : row.reaches) with_shell = with_shell || r.sink == Sink::kArchiveCommand;
    const std::map<Sink, Parsed> expected = RenderAll(*base, base_env, with_shell);
    for (const auto& [sink, parsed] : expected)
      ASSERT_EQ(parsed.error, "") << var << ": " << ToString(sink) << " of the plain value";

    // POSTGRES_PRIMARY_CONNINFO_EXTRA is connection-string syntax: the keys it sets are the
    // user's to choose (value_rules.h kConninfoVerbatim).
    const bool verbatim = std::any_of(row.reaches.begin(), row.reaches.end(), [](const Reach& r) {
      return r.carry == Carry::kConninfoVerbatim;
    });
    std::map<size_t, int> carried;  // reach index → hostile values accepted and read back
    for (const std::string& value : HostileValues(plain)) {
      const std::string what = var + "=\"" + Printable(value) + "\"";
      Environment env = EverythingOn(var);
      env[var] = value;
      Result<Config> c = LoadConfig(env);
      if (!c.ok()) {
        EXPECT_TRUE(NamesVariable(c.status().message(), var))
            << what << " was refused without naming it: " << c.status().message();
        continue;
      }
      const std::map<Sink, Parsed> got = RenderAll(*c, env, with_shell);
      for (const auto& [sink, parsed] : got) {
        EXPECT_EQ(parsed.error, "") << what << " breaks " << ToString(sink);
        EXPECT_EQ(KeysOutsideUsersConninfo(parsed, verbatim),
                  KeysOutsideUsersConninfo(expected.at(sink), verbatim))
            << what << " changes the lines or keys of " << ToString(sink);
      }
      const std::string stored = Stored(var, *c);
      for (size_t i = 0; i < row.reaches.size(); ++i) {
        const Reach& reach = row.reaches[i];
        const Parsed& p = got.at(reach.sink);
        bool ok = true;
        switch (reach.carry) {
          case Carry::kGrammar:
          case Carry::kConninfoVerbatim:  // its keys are compared above
            break;
          case Carry::kMasked:
            ok = p.Find(var) != nullptr && *p.Find(var) == "********";
            break;
          case Carry::kIniRawSpaceless: {
            std::string spaceless;
            for (char ch : stored)
              if (ch != ' ' && ch != '\t') spaceless += ch;
            ok = AnyValueContains(p, spaceless);
            break;
          }
          case Carry::kDirectoryList:
            // One element: the whole value, which holds no separator and no edge space.
            ok = AnyValueContains(p, stored) && stored.find(',') == std::string::npos &&
                 stored.front() != ' ' && stored.back() != ' ';
            break;
          default:
            ok = AnyValueContains(p, stored);
        }
        EXPECT_TRUE(ok) << what << " is not read back from " << ToString(reach.sink) << " ("
                        << Describe(reach.carry) << ")";
        if (ok) ++carried[i];
      }
    }
    // Each way of carrying a value must have carried some of the hostile ones: a table that
    // refused everything would pass the checks above without testing any quoting.
    // Types that admit the hostile characters; WAL locations and transaction IDs are text
    // whose grammar validate.cc checks.
    const Descriptor* d = FindDescriptor(var);
    const bool open_type =
        (d == nullptr || d->type == VarType::kText || d->type == VarType::kSecret ||
         d->type == VarType::kPath || d->type == VarType::kPgName) &&
        var != "PGRT_RESTORE_TARGET_LSN" && var != "PGRT_RESTORE_TARGET_XID" &&
        var != "PGRT_NODE_NAME" && var != "PGRT_CLUSTER_NAME";  // names: etcd key segments
    for (size_t i = 0; i < row.reaches.size(); ++i) {
      if (row.reaches[i].carry == Carry::kGrammar || !open_type) continue;
      EXPECT_GT(carried[i], 0) << var << ": no hostile value reached "
                               << ToString(row.reaches[i].sink);
    }
  }
}

struct RefusalCase {
  const char* variable;
  std::string value;
  const char* expected;  // part of the problem line
};

TEST(ValueRules, RefusalsNameTheVariableAndTheFilesThatCannotCarryTheValue) {
  const std::vector<RefusalCase> kCases = {
      {"POSTGRES_USER", "app\npg1-host=evil",
       "POSTGRES_USER: \"app\\npg1-host=evil\" contains a line break (0x0a), which "
       "pgbackrest.conf, "
       "passfiles, pgrt config cannot carry"},
      {"POSTGRES_DB", "db\nPOSTGRES_USER=root",
       "POSTGRES_DB: \"db\\nPOSTGRES_USER=root\" contains a line break (0x0a), which pgrt config "
       "cannot carry"},
      {"POSTGRES_DB", "db\x1b[31m", "contains a control character (0x1b)"},
      {"POSTGRES_REPLICATION_USER", "rep\rx", "contains a line break (0x0d)"},
      {"POSTGRES_USER", " app",
       "begins or ends with a space or tab, which pgbackrest.conf would trim"},
      {"PGRT_SOCKET_DIR", "/run/a,b",
       "PGRT_SOCKET_DIR: \"/run/a,b\" contains \",\", which pgrt.conf, conninfo read as a list "
       "separator"},
      {"PGRT_SOCKET_DIR", "/run/a ", "would trim"},
      {"PGDATA", "/srv/data ", "PGDATA: \"/srv/data \" begins or ends with a space"},
      {"PGBACKREST_STANZA", "main\n[global]", "PGBACKREST_STANZA: \"main\\n[global]\" contains"},
      {"PGBACKREST_STANZA", "main ", "PGBACKREST_STANZA: \"main \" begins or ends"},
      {"PGBOUNCER_SERVER_RESET_QUERY", "DISCARD ALL ", "which pgbouncer.ini would trim"},
      {"POSTGRES_PRIMARY_CONNINFO_EXTRA", "sslmode",
       "POSTGRES_PRIMARY_CONNINFO_EXTRA: \"sslmode\" is not a connection string"},
  };
  for (const RefusalCase& c : kCases) {
    Environment env = EverythingOn(c.variable);
    env[c.variable] = c.value;
    Result<Config> r = LoadConfig(env);
    ASSERT_FALSE(r.ok()) << c.variable << "=" << Printable(c.value);
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << "got: " << r.status().message() << "\nwant: " << c.expected;
  }
}

TEST(ValueRules, APasswordWithALineBreakIsRefusedWithoutQuotingIt) {
  for (const char* var : {"POSTGRES_PASSWORD", "POSTGRES_REPLICATION_PASSWORD"}) {
    for (const std::string pw : {"se\ncret", "se\rcret"}) {
      Environment env = EverythingOn(var);
      env[var] = pw;
      Result<Config> r = LoadConfig(env);
      ASSERT_FALSE(r.ok()) << var;
      EXPECT_TRUE(NamesVariable(r.status().message(), var)) << r.status().message();
      EXPECT_EQ(r.status().message().find("cret"), std::string::npos) << r.status().message();
    }
  }
}

TEST(ValueRules, PasswordsKeepEveryOtherCharacterThroughThePassfile) {
  Environment env = EverythingOn("POSTGRES_PASSWORD");
  const std::string pw = "a:b\\c*#d\te f'g\"h\x01i";
  env["POSTGRES_PASSWORD"] = pw;
  env["POSTGRES_REPLICATION_PASSWORD"] = "#" + pw;
  Result<Config> c = LoadConfig(env);
  ASSERT_TRUE(c.ok()) << c.status().message();
  Parsed local = test::ReadPassfile(LocalPassfileLine(*c));
  ASSERT_EQ(local.error, "");
  EXPECT_EQ(*local.Find("line1/password"), pw);
  EXPECT_EQ(*local.Find("line1/user"), "app");
  Parsed replication = test::ReadPassfile(PassfileLine(*c, ConfiguredTopology(*c).upstream));
  ASSERT_EQ(replication.error, "");
  EXPECT_EQ(*replication.Find("line1/password"), "#" + pw);
}

TEST(ValueRules, PassfileFieldsThatLookLikeACommentOrAWildcardStayLiteral) {
  Environment env = EverythingOn("POSTGRES_PRIMARY_HOST");
  env["POSTGRES_PRIMARY_HOST"] = "#primary";
  env["POSTGRES_REPLICATION_USER"] = "*";
  Result<Config> c = LoadConfig(env);
  ASSERT_TRUE(c.ok()) << c.status().message();
  Parsed p = test::ReadPassfile(PassfileLine(*c, ConfiguredTopology(*c).upstream));
  ASSERT_EQ(p.error, "");
  ASSERT_NE(p.Find("line1/host"), nullptr) << PassfileLine(*c, ConfiguredTopology(*c).upstream);
  EXPECT_EQ(*p.Find("line1/host"), "#primary");
  EXPECT_EQ(*p.Find("line1/user"), "*");
}

TEST(ValueRules, ConfQuoteCarriesEveryByteButNulThroughPostgresqlConf) {
  std::string all;
  for (int b = 1; b < 256; ++b) all += static_cast<char>(b);
  Parsed p = test::ReadConf("x = " + ConfQuote(all) + "\n");
  ASSERT_EQ(p.error, "");
  ASSERT_EQ(p.entries.size(), 1u);
  EXPECT_EQ(p.entries[0].value, all);
}

TEST(ValueRules, ConfigOutputQuotesAControlCharacterOfAConfigBuiltInCode) {
  Result<Config> c = LoadConfig(EverythingOn("POSTGRES_DB"));
  ASSERT_TRUE(c.ok());
  Config forged = *c;
  forged.db = "db\nPOSTGRES_USER=root";
  Parsed p = test::ReadConfigOutput(RenderEffectiveConfig(forged, {}));
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.Find("POSTGRES_USER") != nullptr ? *p.Find("POSTGRES_USER") : "", "app");
  EXPECT_EQ(*p.Find("POSTGRES_DB"), "\"db\\nPOSTGRES_USER=root\"");
}

TEST(ValueRules, ReferenceListsEveryRowWithWhatItRefuses) {
  const std::string ref = RenderValueRulesReference();
  for (const ValueRule& r : ValueRules())
    EXPECT_NE(ref.find("| `" + std::string(r.variable) + "` |"), std::string::npos) << r.variable;
  EXPECT_NE(ref.find("| `POSTGRES_USER` | pgbackrest.conf (raw), passfiles (escaped), conninfo "
                     "(quoted), pgrt config (printed) | control characters other than tab "
                     "(0x01-0x1f, 0x7f); a "
                     "leading or trailing space or tab |"),
            std::string::npos)
      << ref;
}

}  // namespace
}  // namespace pgrt
