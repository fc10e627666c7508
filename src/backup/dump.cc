#include "backup/dump.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <ctime>

#include "backup/pgbackrest.h"
#include "replication/conninfo.h"
#include "util/fs.h"

namespace pgrt {
namespace {

constexpr size_t kStampLength = 16;  // 20240131T030000Z

bool IsStamp(std::string_view s) {
  if (s.size() != kStampLength || s[8] != 'T' || s[15] != 'Z') return false;
  for (size_t i = 0; i < 15; ++i)
    if (i != 8 && !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "<anything>-<stamp><ext>" with a non-empty <anything>.
bool StampedWith(std::string_view name, std::string_view ext) {
  if (!EndsWith(name, ext) || name.size() < kStampLength + ext.size() + 2) return false;
  std::string_view rest = name.substr(0, name.size() - ext.size());
  return IsStamp(rest.substr(rest.size() - kStampLength)) &&
         rest[rest.size() - kStampLength - 1] == '-';
}

std::string EncodeName(const std::string& db) {
  std::string out;
  for (size_t i = 0; i < db.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(db[i]);
    bool plain = std::isalnum(c) || c == '_' || c == '-' || (c == '.' && i > 0);
    if (plain) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

JobStep Step(const NodeContext& ctx, const std::string& name, std::vector<std::string> argv,
             const std::string& final_name, const std::shared_ptr<DumpTally>& tally) {
  const std::string dir = ctx.config.dump_dir;
  JobStep step;
  step.spec.name = name;
  step.spec.argv = std::move(argv);
  step.spec.env = ctx.child_env;
  step.spec.env["PGPASSFILE"] = BackupPaths::From(ctx.config).passfile;  // a path only
  step.spec.run_as = ctx.run_as;
  step.after = [dir, final_name, tally](const std::string&) -> Status {
    const std::string from = JoinPath(dir, kDumpTempPrefix + final_name);
    const std::string to = JoinPath(dir, final_name);
    // Dumps hold every row, and the globals hold password hashes: owner-only.
    if (::chmod(from.c_str(), 0600) != 0) return ErrnoStatus("chmod " + from);
    if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename " + from);
    struct stat st {};
    if (::stat(to.c_str(), &st) == 0) tally->bytes += st.st_size;
    tally->files.push_back(final_name);
    return Status::Ok();
  };
  return step;
}

}  // namespace

std::string DumpStamp(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string DumpFileName(const std::string& database, const std::string& stamp) {
  return EncodeName(database) + "-" + stamp + ".dump";
}

std::string LocalConninfo(const Config& c, const std::string& db) {
  return "host=" + ConninfoValue(c.socket_dir) + " port=" + std::to_string(c.port) +
         " user=" + ConninfoValue(c.user) + " dbname=" + ConninfoValue(db) +
         " application_name=pgrt-dump";
}

std::string GlobalsFileName(const std::string& stamp) { return "globals-" + stamp + ".sql"; }

bool IsOwnDumpFile(const std::string& name) {
  std::string_view n = name;
  if (n.rfind(kDumpTempPrefix, 0) == 0) n = n.substr(std::string_view(kDumpTempPrefix).size());
  if (n.rfind("globals-", 0) == 0 && StampedWith(n, ".sql")) return true;
  return StampedWith(n, ".dump");
}

std::vector<std::string> DumpableDatabases(const PgResult& r) {
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.Get(i, 0));
  return out;
}

std::vector<JobStep> DumpSteps(const NodeContext& ctx, const std::vector<std::string>& databases,
                               const std::string& stamp, std::shared_ptr<DumpTally> tally) {
  const Config& c = ctx.config;
  std::vector<JobStep> steps;
  const std::string globals = GlobalsFileName(stamp);
  steps.push_back(Step(ctx, "pg_dumpall",
                       {ctx.Bin("pg_dumpall"), "--globals-only", "--no-password",
                        "--dbname=" + LocalConninfo(c, c.db),
                        "--file=" + JoinPath(c.dump_dir, kDumpTempPrefix + globals)},
                       globals, tally));
  for (const std::string& db : databases) {
    const std::string file = DumpFileName(db, stamp);
    steps.push_back(Step(
        ctx, "pg_dump " + db,
        {ctx.Bin("pg_dump"), "--format=custom", "--no-password", "--dbname=" + LocalConninfo(c, db),
         "--file=" + JoinPath(c.dump_dir, kDumpTempPrefix + file)},
        file, tally));
  }
  return steps;
}

void RemoveDumpTemps(const std::string& dir, const std::string& stamp) {
  auto entries = ListDirectory(dir);
  if (!entries.ok()) return;  // nothing to clean if the directory cannot be read
  for (const std::string& e : *entries) {
    if (e.rfind(kDumpTempPrefix, 0) == 0 && e.find(stamp) != std::string::npos)
      ::unlink(JoinPath(dir, e).c_str());  // best effort: retention removes leftovers later
  }
}

}  // namespace pgrt
