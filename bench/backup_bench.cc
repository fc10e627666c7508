// The backup benchmark (backup_bench.h). One source node archives into a posix repository;
// each repetition takes a full backup through `pgrt backup` and one with pgbackrest by hand
// (alternating who goes first), then restores the latest backup through a fresh
// `pgrt run` (PGRT_RESTORE_FROM) and by hand (pgbackrest restore + pg_ctl start), each until
// a new connection finds the server writable.
#include "backup_bench.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "backup_hand.h"
#include "harness/harness.h"

namespace pgrt::bench {
namespace {

using std::chrono::milliseconds;
using testing::Env;
using testing::PgrtNode;
using SteadyClock = std::chrono::steady_clock;

constexpr char kToken[] = "bench-token";
constexpr double kTarget = 1.05;  // issue 4: pgrt adds at most 5 %

int EnvInt(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  int n = v ? std::atoi(v) : fallback;
  return std::clamp(n, lo, hi);
}

double Since(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Figure {
  const char* name;
  std::vector<double> pgrt, hand;
};

std::string Format(const Figure& f) {
  std::vector<double> ratios;
  for (size_t i = 0; i < std::min(f.pgrt.size(), f.hand.size()); ++i)
    ratios.push_back(f.pgrt[i] / f.hand[i]);
  double ratio = Median(ratios);
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-14s pgrt=%.3fs  by_hand=%.3fs  ratio=%.3f  target<=%.2f  %s",
                f.name, Median(f.pgrt), Median(f.hand), ratio, kTarget,
                std::isnan(ratio)  ? "MISSING"
                : ratio <= kTarget ? "OK"
                                   : "MISS");
  std::string out = buf;
  out += "\n    runs pgrt=[";
  for (double d : f.pgrt) out += " " + std::to_string(d).substr(0, 6);
  out += " ]  by_hand=[";
  for (double d : f.hand) out += " " + std::to_string(d).substr(0, 6);
  return out + " ]";
}

Env SourceEnv(const std::string& repo) {
  return {{"PGRT_BACKUP", "pgbackrest"},
          {"PGBACKREST_REPO1_PATH", repo},
          {"PGBACKREST_REPO1_RETENTION_FULL", "2"},
          {"PGRT_API_TOKEN", kToken},
          {"POSTGRES_SHARED_BUFFERS", "128MB"}};
}

// pgbench -i, a checkpoint, and the last segment archived: the repository is then
// complete for a backup and a restore of the latest.
Status Load(PgrtNode& node, int scale) {
  auto out = testing::RunCommand(
      {testing::PgBinDir() + "/pgbench", "-i", "-q", "-s", std::to_string(scale), "-h", "127.0.0.1",
       "-p", std::to_string(node.pg_port()), "-U", "app", "appdb"},
      {{"PGPASSWORD", node.password()}});
  if (out.exit_code != 0) return Status::Error("pgbench -i: " + out.output);
  node.Query("CHECKPOINT");
  node.Query("SELECT pg_logical_emit_message(false, 'bench', 'x')");
  std::string wal = node.Query("SELECT pg_walfile_name(pg_switch_wal())");
  bool archived = testing::WaitUntil(
      [&] {
        return node.Query("SELECT COALESCE(last_archived_wal, '') FROM pg_stat_archiver")
                   .substr(0, 24) >= wal;
      },
      milliseconds(600000), milliseconds(50));
  return archived ? Status::Ok() : Status::Error("WAL not archived");
}

// `pgrt backup --type=full` through the node's API; seconds, or -1.
double PgrtBackup(PgrtNode& node, std::vector<std::string>& errors) {
  auto t0 = SteadyClock::now();
  auto out = testing::RunPgrt({"backup", "--type=full"}, node.env());
  double s = Since(t0);
  if (out.exit_code == 0) return s;
  errors.push_back("pgrt backup: " + out.output);
  return -1;
}

// A fresh `pgrt run` restoring the latest backup; seconds until writable, or -1.
double PgrtRestore(const std::string& repo, std::map<std::string, std::vector<double>>& phases,
                   std::vector<std::string>& errors) {
  // No PGRT_BACKUP: the restored node must not archive a new timeline into the repository
  // the next repetitions restore from.
  PgrtNode node({{"PGRT_RESTORE_FROM", "pgbackrest"},
                 {"PGBACKREST_REPO1_PATH", repo},
                 {"POSTGRES_SHARED_BUFFERS", "128MB"}});
  auto t0 = SteadyClock::now();
  node.Start();
  bool ok = WaitWritable(node.Conn(), milliseconds(3600 * 1000));
  double s = Since(t0);
  if (!ok) {
    errors.push_back("pgrt restore: " + node.Log().substr(0, 4000));
    return -1;
  }
  std::istringstream timings(node.Get("/__opr/timings").body);
  for (std::string line; std::getline(timings, line);) {
    size_t eq = line.find('=');
    if (eq != std::string::npos)
      phases[line.substr(0, eq)].push_back(std::atof(line.c_str() + eq + 1));
  }
  node.Stop();
  return s;
}

double Timed(const Status& st, SteadyClock::time_point t0, const char* what,
             const HandPgBackRest& hand, std::vector<std::string>& errors) {
  if (st.ok()) return Since(t0);
  errors.push_back(std::string(what) + ": " + st.message() + "\n" + hand.Log().substr(0, 4000));
  return -1;
}

void Push(std::vector<double>& into, double v) {
  if (v >= 0) into.push_back(v);
}

}  // namespace

int RunBackupBench() {
  const int scale = EnvInt("PGRT_BENCH_BACKUP_SCALE", 50, 1, 10000);
  const int reps = EnvInt("PGRT_BENCH_BACKUP_REPS", 3, 1, 50);
  testing::TempDir repo_dir;
  const std::string repo = repo_dir.Sub("repo");
  PgrtNode source(SourceEnv(repo));
  source.Start();
  if (!source.WaitHealthy(milliseconds(120000))) {
    std::cerr << "source node did not start:\n" << source.Log();
    return 1;
  }
  if (Status st = Load(source, scale); !st.ok()) {
    std::cerr << st.message() << "\n";
    return 1;
  }
  const std::string size = source.Query("SELECT pg_size_pretty(pg_database_size('appdb'))");
  std::cout << "pgrt backup bench  scale=" << scale << " (appdb " << size << ")  reps=" << reps
            << "  repository=" << repo << "\n"
            << std::flush;

  HandTarget target{
      repo,  source.pgdata(),   source.env().at("PGRT_SOCKET_DIR"),        source.pg_port(),
      "app", source.password(), {{"PGBACKREST_REPO1_RETENTION_FULL", "2"}}};
  HandPgBackRest hand(target);
  if (Status st = hand.Prepare(); !st.ok()) {
    std::cerr << st.message() << "\n";
    return 1;
  }
  Figure backup{"backup_full", {}, {}}, restore{"restore_latest", {}, {}};
  std::vector<std::string> errors;
  std::map<std::string, std::vector<double>> phases;
  for (int i = 0; i < reps; ++i) {
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == (i % 2 == 0)) {
        Push(backup.pgrt, PgrtBackup(source, errors));
      } else {
        auto t0 = SteadyClock::now();
        Push(backup.hand, Timed(hand.Backup("full"), t0, "hand backup", hand, errors));
      }
    }
    std::cerr << "backup repetition " << i + 1 << "/" << reps << " done\n";
  }
  source.Stop();  // restores read the repository only
  for (int i = 0; i < reps; ++i) {
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == (i % 2 == 0)) {
        Push(restore.pgrt, PgrtRestore(repo, phases, errors));
      } else {
        auto t0 = SteadyClock::now();
        Push(restore.hand, Timed(hand.Restore(), t0, "hand restore", hand, errors));
        hand.StopRestored().IgnoreError();  // a leftover dir goes with the TempDir
      }
    }
    std::cerr << "restore repetition " << i + 1 << "/" << reps << " done\n";
  }

  std::cout << "medians; ratio = median of per-repetition pgrt/by_hand\n"
            << Format(backup) << "\n"
            << Format(restore) << "\n  pgrt restore phases (median s):";
  for (const auto& [name, v] : phases) std::cout << " " << name << "=" << Median(v);
  std::cout << "\n  by hand: backup = pgbackrest backup --type=full; restore = pgbackrest "
               "restore + pg_ctl start -w + until pg_is_in_recovery() is false\n"
               "  pgrt: backup = `pgrt backup --type=full` (CLI → API → pgBackRest → status);"
               " restore = `pgrt run` on an empty PGDATA until writable\n";
  for (const std::string& e : errors) std::cout << "\nERROR " << e << "\n";
  bool missing =
      backup.pgrt.empty() || backup.hand.empty() || restore.pgrt.empty() || restore.hand.empty();
  return missing ? 1 : 0;
}

}  // namespace pgrt::bench
