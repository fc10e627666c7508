#include "config/value_rules.h"

#include <algorithm>
#include <cstdio>

#include "config/values.h"

namespace pgrt {
namespace {

using S = Sink;
using C = Carry;

// Almost every variable is printed by `pgrt config`; secrets are masked there.
constexpr Reach kPrintedOut{S::kConfigOutput, C::kPrinted};
constexpr Reach kMaskedOut{S::kConfigOutput, C::kMasked};

ValueRule Row(const char* variable, std::vector<Reach> reaches) {
  return ValueRule{variable, std::move(reaches)};
}
// A variable printed by `pgrt config` and read by pgrt alone (argv, SQL through libpq, paths
// it opens), or written only as its type's grammar allows.
ValueRule Printed(const char* variable, std::vector<Reach> grammar_sinks = {}) {
  std::vector<Reach> reaches;
  for (const Reach& r : grammar_sinks) reaches.push_back(r);
  reaches.push_back(kPrintedOut);
  return Row(variable, std::move(reaches));
}
Reach Grammar(Sink sink) { return Reach{sink, C::kGrammar}; }

std::vector<ValueRule> BuildRules() {
  return {
      // Node.
      Row("POSTGRES_USER", {{S::kPgbackrestConf, C::kIniRaw},  // pg1-user
                            {S::kPassfile, C::kPassfileField},
                            {S::kConninfo, C::kConninfoQuoted},  // pg_dump's --dbname
                            kPrintedOut}),
      Row("POSTGRES_PASSWORD",
          {{S::kInitdbPwfile, C::kLine}, {S::kPassfile, C::kPassfileField}, kMaskedOut}),
      Row("POSTGRES_DB", {{S::kConninfo, C::kConninfoQuoted},
                          {S::kDumpFileName, C::kPercentEncoded},
                          kPrintedOut}),
      Row("PGDATA", {{S::kSettings, C::kConfQuoted},         // ident_file, ssl_*_file copies
                     {S::kArchiveCommand, C::kShellQuoted},  // --pg1-path of a restore's scratch
                     {S::kConninfo, C::kConninfoQuoted},     // passfile= of primary_conninfo
                     {S::kPgbouncerIni, C::kIniRaw},         // client_tls_*_file copies
                     {S::kPgbackrestConf, C::kIniRaw},       // pg1-path
                     kPrintedOut}),
      Printed("POSTGRES_PORT",
              {Grammar(S::kSettings), Grammar(S::kPgbouncerIni), Grammar(S::kPgbackrestConf),
               Grammar(S::kPassfile), Grammar(S::kConninfo)}),
      Row("POSTGRES_LISTEN_ADDRESSES",
          {{S::kSettings, C::kConfQuoted}, {S::kPgbouncerIni, C::kIniRawSpaceless}, kPrintedOut}),
      Printed("POSTGRES_MAX_CONNECTIONS", {Grammar(S::kSettings)}),
      Printed("POSTGRES_SHARED_BUFFERS", {Grammar(S::kSettings)}),
      Printed("POSTGRES_INITDB_ARGS"),    // initdb's argv, split on spaces
      Printed("POSTGRES_INITDB_WALDIR"),  // initdb's argv
      Printed("POSTGRES_HOST_AUTH_METHOD",
              {Grammar(S::kSettings), Grammar(S::kHba), Grammar(S::kPgbouncerHba)}),
      Printed("POSTGRES_EXTENSIONS"),      // SQL identifiers, quoted by libpq
      Printed("POSTGRES_INITDB_SCRIPTS"),  // a directory pgrt reads
      Printed("POSTGRES_TLS_CERT_FILE"),   // copied into PGDATA/pgrt-tls; the copy is named
      Printed("POSTGRES_TLS_KEY_FILE"),
      Printed("POSTGRES_TLS_CA_FILE"),
      Printed("POSTGRES_TLS_REQUIRED", {Grammar(S::kHba), Grammar(S::kPgbouncerIni)}),

      // Runtime.
      Printed("PGRT_API_ADDRESS"),
      Printed("PGRT_API_PORT"),
      Row("PGRT_API_TOKEN", {kMaskedOut}),  // held in memory only
      Printed("PGRT_API_TLS_CERT_FILE"),    // read by pgrt itself, never written anywhere
      Printed("PGRT_API_TLS_KEY_FILE"),
      Printed("PGRT_API_TLS_CA_FILE"),
      Printed("PGRT_API_TLS_CLIENT_CERT_FILE"),
      Printed("PGRT_API_TLS_CLIENT_KEY_FILE"),
      Printed("PGRT_RUN_AS", {Grammar(S::kIdent)}),
      Printed("PGRT_LOG_FORMAT"),
      Printed("PGRT_PG_BINDIR"),
      Row("PGRT_SOCKET_DIR", {{S::kSettings, C::kDirectoryList},         // unix_socket_directories
                              {S::kConninfo, C::kDirectoryList},         // host= of pg_dump
                              {S::kPgbouncerIni, C::kConnstringQuoted},  // [databases] host=
                              {S::kPgbouncerIni, C::kIniRaw},    // unix_socket_dir, auth_file, ...
                              {S::kPgbackrestConf, C::kIniRaw},  // pg1-socket-path, lock-path
                              {S::kArchiveCommand, C::kShellQuoted},  // --config=
                              kPrintedOut}),
      Printed("PGRT_RESTART_MAX"),
      Printed("PGRT_RESTART_WINDOW"),

      // Replication.
      Printed("POSTGRES_REPLICATION_MODE"),
      Row("POSTGRES_REPLICATION_USER", {{S::kConninfo, C::kConninfoQuoted},
                                        {S::kSettings, C::kConfQuoted},  // inside primary_conninfo
                                        {S::kPassfile, C::kPassfileField},
                                        kPrintedOut}),
      Row("POSTGRES_REPLICATION_PASSWORD", {{S::kPassfile, C::kPassfileField}, kMaskedOut}),
      Row("POSTGRES_PRIMARY_HOST", {{S::kConninfo, C::kConninfoQuoted},
                                    {S::kSettings, C::kConfQuoted},
                                    {S::kPassfile, C::kPassfileField},
                                    kPrintedOut}),
      Printed("POSTGRES_PRIMARY_PORT", {Grammar(S::kConninfo), Grammar(S::kPassfile)}),
      Printed("POSTGRES_REPLICATION_SLOT_NAME", {Grammar(S::kSettings)}),
      Printed("POSTGRES_WAL_LEVEL", {Grammar(S::kSettings)}),
      Printed("POSTGRES_MAX_WAL_SENDERS", {Grammar(S::kSettings)}),
      Printed("POSTGRES_MAX_REPLICATION_SLOTS", {Grammar(S::kSettings)}),
      Printed("POSTGRES_WAL_KEEP_SIZE", {Grammar(S::kSettings)}),
      Printed("POSTGRES_HOT_STANDBY", {Grammar(S::kSettings)}),
      Printed("POSTGRES_HOT_STANDBY_FEEDBACK", {Grammar(S::kSettings)}),
      Printed("POSTGRES_SYNCHRONOUS_COMMIT", {Grammar(S::kSettings)}),
      Row("POSTGRES_SYNCHRONOUS_STANDBY_NAMES", {{S::kSettings, C::kConfQuoted}, kPrintedOut}),
      Printed("POSTGRES_ARCHIVE_MODE", {Grammar(S::kSettings)}),
      Row("POSTGRES_ARCHIVE_COMMAND", {{S::kSettings, C::kConfQuoted}, kPrintedOut}),
      Row("POSTGRES_RESTORE_COMMAND", {{S::kSettings, C::kConfQuoted}, kPrintedOut}),
      Printed("POSTGRES_RECOVERY_TARGET_TIMELINE", {Grammar(S::kSettings)}),
      Row("POSTGRES_PRIMARY_CONNINFO_EXTRA",
          {{S::kConninfo, C::kConninfoVerbatim}, {S::kSettings, C::kConfQuoted}, kPrintedOut}),
      Printed("POSTGRES_REPLICATION_ALLOWED_NETWORKS", {Grammar(S::kHba)}),
      Printed("PGRT_REPLICA_RECLONE"),
      Printed("PGRT_NODE_NAME"),  // the role file (JSON, escaped by nlohmann::json)
      // High availability: parsed by pgrt, sent to etcd as JSON (escaped by nlohmann::json).
      Printed("PGRT_HA"),
      Printed("PGRT_ETCD_ENDPOINTS"),
      Printed("PGRT_ETCD_CA_FILE"),
      Printed("PGRT_ETCD_CERT_FILE"),
      Printed("PGRT_ETCD_KEY_FILE"),
      Printed("PGRT_ETCD_USERNAME"),
      Row("PGRT_ETCD_PASSWORD", {kMaskedOut}),  // held in memory only
      Printed("PGRT_CLUSTER_NAME"),             // etcd keys; its grammar allows no slash
      Printed("PGRT_ADVERTISE_HOST"),  // the member record (JSON); peers quote it in conninfo
      Printed("PGRT_HA_TTL"),
      Printed("PGRT_SYNC_MODE"),
      Printed("PGRT_MAXIMUM_LAG_ON_FAILOVER"),
      Printed("PGRT_IDLE_TIMEOUT"),
      Printed("PGRT_WAKE_TIMEOUT"),

      // Pooling.
      Printed("PGBOUNCER_ENABLED"),
      Printed("PGBOUNCER_PORT", {Grammar(S::kPgbouncerIni)}),
      Printed("PGBOUNCER_POOL_MODE", {Grammar(S::kPgbouncerIni)}),
      Printed("PGBOUNCER_MAX_CLIENT_CONN", {Grammar(S::kPgbouncerIni)}),
      Printed("PGBOUNCER_DEFAULT_POOL_SIZE", {Grammar(S::kPgbouncerIni)}),
      Printed("PGBOUNCER_MIN_POOL_SIZE", {Grammar(S::kPgbouncerIni)}),
      Printed("PGBOUNCER_RESERVE_POOL_SIZE", {Grammar(S::kPgbouncerIni)}),
      Printed("PGBOUNCER_RESERVE_POOL_TIMEOUT", {Grammar(S::kPgbouncerIni)}),
      Row("PGBOUNCER_SERVER_RESET_QUERY", {{S::kPgbouncerIni, C::kIniRaw}, kPrintedOut}),
      Printed("PGBOUNCER_SERVER_IDLE_TIMEOUT", {Grammar(S::kPgbouncerIni)}),
      Printed("PGBOUNCER_SERVER_LIFETIME", {Grammar(S::kPgbouncerIni)}),

      // Backups.
      Printed("PGRT_BACKUP"),
      Printed("PGRT_BACKUP_SCHEDULE"),  // evaluated by pgrt; no crontab is written
      Printed("PGRT_BACKUP_ON_REPLICA"),
      Printed("PGRT_DUMP_SCHEDULE"),
      Printed("PGRT_DUMP_DIR"),  // directory of pg_dump's --file, an argv word
      Printed("PGRT_DUMP_RETENTION_DAYS"),
      Printed("PGRT_RESTORE_FROM"),
      Printed("PGRT_RESTORE_TARGET_TIME"),  // pgBackRest's --target=, an argv word
      Printed("PGRT_RESTORE_TARGET_LSN"),
      Printed("PGRT_RESTORE_TARGET_XID"),
      // The other PGBACKREST_* variables reach pgBackRest through its environment, which
      // carries any byte but NUL; `pgrt config` prints them escaped or masked.
      Row("PGBACKREST_STANZA", {{S::kPgbackrestConf, C::kIniRaw},       // [stanza]
                                {S::kArchiveCommand, C::kShellQuoted},  // --stanza=
                                kPrintedOut}),
  };
}

// A tab keeps a line a line; it counts against the files that trim (kRefuseEdgeSpaces).
bool IsControl(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}
bool IsLineBreak(char c) { return c == '\n' || c == '\r'; }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// The files of `rule` whose carry refuses any of `mask`, as "pgbackrest.conf, passfiles".
std::string SinksRefusing(const ValueRule& rule, unsigned mask) {
  std::vector<std::string> names;
  for (const Reach& r : rule.reaches) {
    std::string name = ToString(r.sink);
    if ((Refused(r.carry) & mask) && std::find(names.begin(), names.end(), name) == names.end())
      names.push_back(name);
  }
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string ByteName(char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned char>(c));
  return buf;
}

std::string RefusedText(unsigned refused) {
  if (refused == kRefuseNothing) return "nothing beyond its type";
  std::vector<std::string> parts;
  if (refused & kRefuseControlChars) {
    parts.push_back("control characters other than tab (0x01-0x1f, 0x7f)");
  } else if (refused & kRefuseLineBreaks) {
    parts.push_back("CR and LF");
  }
  if (refused & kRefuseEdgeSpaces) parts.push_back("a leading or trailing space or tab");
  if (refused & kRefuseComma) parts.push_back("`,`");
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

unsigned Refused(Carry carry) {
  switch (carry) {
    case C::kGrammar:
    case C::kConfQuoted:
    case C::kShellQuoted:
    case C::kConninfoQuoted:
    case C::kConninfoVerbatim:
    case C::kPercentEncoded:
    case C::kMasked:
      return kRefuseNothing;
    case C::kDirectoryList:
      return kRefuseComma | kRefuseEdgeSpaces;
    case C::kConnstringQuoted:
    case C::kPassfileField:
    case C::kLine:
      return kRefuseLineBreaks;
    case C::kIniRaw:
      return kRefuseControlChars | kRefuseEdgeSpaces;
    case C::kIniRawSpaceless:
    case C::kPrinted:
      return kRefuseControlChars;
  }
  return kRefuseControlChars;
}

const std::vector<ValueRule>& ValueRules() {
  static const std::vector<ValueRule> kRules = BuildRules();
  return kRules;
}

const ValueRule* FindValueRule(std::string_view variable) {
  for (const ValueRule& r : ValueRules()) {
    if (variable == r.variable) return &r;
  }
  return nullptr;
}

unsigned RefusedBy(const ValueRule& rule) {
  unsigned out = kRefuseNothing;
  for (const Reach& r : rule.reaches) out |= Refused(r.carry);
  return out;
}

const char* ToString(Sink sink) {
  switch (sink) {
    case S::kSettings:
      return "pgrt.conf";
    case S::kArchiveCommand:
      return "archive_command";
    case S::kHba:
      return "pg_hba.conf";
    case S::kIdent:
      return "pg_ident.conf";
    case S::kPgbouncerIni:
      return "pgbouncer.ini";
    case S::kPgbouncerHba:
      return "pgbouncer_hba.conf";
    case S::kPgbackrestConf:
      return "pgbackrest.conf";
    case S::kPassfile:
      return "passfiles";
    case S::kConninfo:
      return "conninfo";
    case S::kInitdbPwfile:
      return "initdb's password file";
    case S::kDumpFileName:
      return "dump file names";
    case S::kConfigOutput:
      return "pgrt config";
  }
  return "?";
}

const char* Describe(Carry carry) {
  switch (carry) {
    case C::kGrammar:
      return "type";
    case C::kConfQuoted:
      return "quoted";
    case C::kDirectoryList:
      return "list element";
    case C::kShellQuoted:
      return "shell-quoted";
    case C::kConninfoQuoted:
      return "quoted";
    case C::kConninfoVerbatim:
      return "as written";
    case C::kConnstringQuoted:
      return "quoted";
    case C::kIniRaw:
      return "raw";
    case C::kIniRawSpaceless:
      return "raw, spaces removed";
    case C::kPassfileField:
      return "escaped";
    case C::kLine:
      return "one line";
    case C::kPercentEncoded:
      return "%-encoded";
    case C::kPrinted:
      return "printed";
    case C::kMasked:
      return "masked";
  }
  return "?";
}

std::optional<std::string> CheckValueCharacters(std::string_view variable, std::string_view value,
                                                bool secret) {
  const ValueRule* rule = FindValueRule(variable);
  if (rule == nullptr) return std::nullopt;
  const unsigned refused = RefusedBy(*rule);
  const std::string shown = secret ? std::string() : Quote(value) + " ";
  for (char c : value) {
    if (!IsControl(c)) continue;
    unsigned flag =
        IsLineBreak(c) && (refused & kRefuseLineBreaks) ? kRefuseLineBreaks : kRefuseControlChars;
    if (!(refused & flag)) continue;
    // A line break also counts against the files that refuse every control character.
    const unsigned mask = flag == kRefuseLineBreaks ? flag | kRefuseControlChars : flag;
    const std::string sinks = SinksRefusing(*rule, mask);
    return shown + "contains " + (IsLineBreak(c) ? "a line break" : "a control character") + " (" +
           ByteName(c) + "), which " + sinks + " cannot carry";
  }
  if ((refused & kRefuseEdgeSpaces) && !value.empty() &&
      (IsBlank(value.front()) || IsBlank(value.back()))) {
    return shown + "begins or ends with a space or tab, which " +
           SinksRefusing(*rule, kRefuseEdgeSpaces) + " would trim";
  }
  if ((refused & kRefuseComma) && value.find(',') != std::string_view::npos) {
    return shown + "contains \",\", which " + SinksRefusing(*rule, kRefuseComma) +
           " read as a list separator";
  }
  return std::nullopt;
}

std::string RenderValueRulesReference() {
  std::string out = "| Variable | Reaches (how) | Refused |\n|---|---|---|\n";
  for (const ValueRule& rule : ValueRules()) {
    std::string reaches;
    for (const Reach& r : rule.reaches) {
      std::string item = std::string(ToString(r.sink)) + " (" + Describe(r.carry) + ")";
      if (reaches.find(item) == std::string::npos) reaches += (reaches.empty() ? "" : ", ") + item;
    }
    out += "| `" + std::string(rule.variable) + "` | " + reaches + " | " +
           RefusedText(RefusedBy(rule)) + " |\n";
  }
  return out;
}

}  // namespace pgrt
