// Shared set-up for the backup integration tests (own namespace, like the replication
// helpers): nodes that archive into a real pgBackRest posix repository in a temp dir, the
// CLI run against them, and bounded waits on what the API and postgres report.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "harness/harness.h"

namespace pgrt::testing::backup {

using nlohmann::json;
using std::chrono::milliseconds;

inline constexpr char kToken[] = "backup-test-token";

// A repository directory pgrt creates itself (for the run-as account) on first use.
class Repo {
 public:
  std::string path() const { return dir_.Sub("repo"); }

 private:
  TempDir dir_;
};

inline Env BackupEnv(const Repo& repo) {
  return {{"PGRT_BACKUP", "pgbackrest"},
          {"PGBACKREST_REPO1_PATH", repo.path()},
          {"PGBACKREST_REPO1_RETENTION_FULL", "9"},  // silences pgBackRest's warning
          {"PGRT_API_TOKEN", kToken}};
}

// A node (not started) that archives into `repo`; `extra` is merged over it.
inline std::unique_ptr<PgrtNode> NewNode(const Repo& repo, const Env& extra = {}) {
  Env env = BackupEnv(repo);
  for (const auto& [k, v] : extra) env[k] = v;
  return std::make_unique<PgrtNode>(env);
}

inline json GetJson(const PgrtNode& node, const std::string& path) {
  HttpResponse r = node.Get(path);
  return json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

// Until the node's stanza exists (created once postgres is ready).
inline bool WaitStanzaReady(const PgrtNode& node, milliseconds timeout = milliseconds(30000)) {
  return WaitUntil(
      [&] {
        json b = GetJson(node, "/__opr/backup");
        return b.is_object() && b.contains("stanza") && b["stanza"].value("ready", false);
      },
      timeout, milliseconds(50));
}

// Starts `node`, waits for health and the stanza; use with ASSERT_NO_FATAL_FAILURE.
inline void StartReady(PgrtNode& node) {
  node.Start();
  ASSERT_TRUE(node.WaitHealthy(milliseconds(60000))) << node.Log();
  ASSERT_TRUE(WaitStanzaReady(node)) << node.Log();
}

// `pgrt <args>` as a client of `node` (its API address, port and token).
inline CommandOutput Cli(const PgrtNode& node, const std::vector<std::string>& args) {
  return RunPgrt(args, node.env());
}

// Switches to a new WAL segment and waits until the one holding everything committed so
// far is in the repository.
inline bool SwitchAndWaitArchived(const PgrtNode& node,
                                  milliseconds timeout = milliseconds(30000)) {
  // A record first: pg_switch_wal() does nothing in a segment without one.
  node.Query("SELECT pg_logical_emit_message(false, 'pgrt-test', 'switch')");
  std::string wal = node.Query("SELECT pg_walfile_name(pg_switch_wal())");
  if (wal.empty()) return false;
  return WaitUntil(
      [&] {
        std::string last =
            node.Query("SELECT COALESCE(last_archived_wal, '') FROM pg_stat_archiver");
        return !last.empty() && last.substr(0, 24) >= wal;
      },
      timeout, milliseconds(50));
}

}  // namespace pgrt::testing::backup
