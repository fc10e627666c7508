// Which files each configuration value reaches, and how each file keeps it to what it means.
//
// Every value pgrt writes into a file is either quoted by that file's own rules or refused
// here, at configuration time, with a message naming the variable: no value may add a line,
// a key or a field to a file. One row per variable (and PGBACKREST_STANZA, the one pass-through
// variable pgrt writes into a file); each row lists the files the value reaches and how it is
// carried there. What a row refuses follows from how it is carried (`Refused`), so the table
// cannot say "quoted" for a file whose quoting could not hold the value.
//
// Used by LoadConfig (CheckValueCharacters), by `pgrt config --value-rules` and the
// "Which characters each value may hold" section of docs/security.md, and row by row by
// tests/unit/value_rules_test.cc, which feeds hostile values to each file's renderer and
// parses the result by that file's rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgrt {

// A file (or a line format) pgrt writes.
enum class Sink {
  kSettings,        // PGDATA/pgrt.conf (postgresql.conf syntax)
  kArchiveCommand,  // archive_command / restore_command: a /bin/sh line inside pgrt.conf
  kHba,             // PGDATA/pg_hba.conf
  kIdent,           // PGDATA/pg_ident.conf
  kPgbouncerIni,    // pgbouncer.ini (its auth_file holds no configured value)
  kPgbouncerHba,    // PgBouncer's HBA file
  kPgbackrestConf,  // pgbackrest.conf
  kPassfile,        // libpq passfiles (superuser's, replication's)
  kConninfo,        // libpq connection strings (primary_conninfo, pg_dump --dbname)
  kInitdbPwfile,    // initdb --pwfile: the password on one line
  kDumpFileName,    // <database>-<stamp>.dump in PGRT_DUMP_DIR
  kConfigOutput,    // what `pgrt config` prints: NAME=value, one per line
};

// How a value is written into a sink.
enum class Carry {
  kGrammar,           // the variable's type admits only characters every sink can carry
  kConfQuoted,        // '...' with '' and backslash escapes (control characters as \n, \ooo)
  kDirectoryList,     // one element of a comma-separated list of paths whose elements are
                      // trimmed (unix_socket_directories, libpq's host)
  kShellQuoted,       // a single-quoted /bin/sh word, % doubled for postgres
  kConninfoQuoted,    // libpq conninfo value: '...' with \' and \\ when needed
  kConninfoVerbatim,  // conninfo syntax the user wrote, appended as it is
  kConnstringQuoted,  // PgBouncer connection string '...' with '', on one ini line
  kIniRaw,            // key=value read raw to the end of the line and trimmed (PgBouncer,
                      // pgBackRest: no quoting exists)
  kIniRawSpaceless,   // as kIniRaw, after pgrt removed every space and tab
  kPassfileField,     // libpq passfile field: : and \ escaped, a leading # or a lone * too
  kLine,              // a line of its own, taken as it is up to the line break
  kPercentEncoded,    // %XX outside [A-Za-z0-9_.-]
  kPrinted,           // printed as it is on its own line
  kMasked,            // printed as ******** (secrets)
};

// What a carry cannot hold, as bit flags.
enum RefusedChars : unsigned {
  kRefuseNothing = 0,
  kRefuseLineBreaks = 1u << 0,    // CR, LF
  kRefuseControlChars = 1u << 1,  // bytes 0x01-0x1f but tab, and 0x7f (line breaks included)
  kRefuseEdgeSpaces = 1u << 2,    // a space or tab at the start or the end
  kRefuseComma = 1u << 3,         // ','
};
unsigned Refused(Carry carry);

struct Reach {
  Sink sink;
  Carry carry;
};

struct ValueRule {
  const char* variable;
  std::vector<Reach> reaches;
};

// Every variable of the descriptor table, then PGBACKREST_STANZA.
const std::vector<ValueRule>& ValueRules();
const ValueRule* FindValueRule(std::string_view variable);
unsigned RefusedBy(const ValueRule& rule);  // the union over its reaches

const char* ToString(Sink sink);
const char* Describe(Carry carry);  // for docs: "quoted '...' with '' and \\"

// Why `value` of `variable` cannot be written where it goes, naming the files that cannot
// carry it; nothing when it can. `secret`: the problem never quotes the value.
std::optional<std::string> CheckValueCharacters(std::string_view variable, std::string_view value,
                                                bool secret);

// The Markdown table of docs/security.md: variable, files, refused characters.
std::string RenderValueRulesReference();

}  // namespace pgrt
