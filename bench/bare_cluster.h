// BareCluster: PostgreSQL driven by hand with its stock tools (initdb, pg_ctl, createdb,
// psql), as the postgres account when the benchmark runs as root. It is the floor pgrt
// is measured against: what a careful operator's script would do, nothing more.
//
// The directory layout mirrors a pgrt node (data dir, socket dir, loopback TCP port,
// the same initdb options and shared_buffers). The destructor stops a postmaster left
// running, by the pid in postmaster.pid.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "harness/harness.h"
#include "process/child.h"
#include "process/user.h"
#include "util/status.h"

namespace pgrt::bench {

struct BareSettings {
  std::string user = "app";
  std::string password = "app-secret-pw";
  std::string db = "appdb";
  std::string shared_buffers = "32MB";
};

// Starts a PostgreSQL program from the build's bindir, as `run_as` when set (root), with a
// minimal environment plus `extra_env`, in `cwd`, output appended to `log_path`.
Result<Child> SpawnPgTool(const std::string& tool, const std::vector<std::string>& args,
                          const std::optional<Credentials>& run_as, const std::string& cwd,
                          const std::string& log_path, const testing::Env& extra_env = {});

// Runs a PostgreSQL tool from the build's bindir to completion, as `run_as` when set (root),
// with a minimal environment plus `extra_env`, in `cwd`, output appended to `log_path`,
// bounded by `timeout_s`.
Status RunPgTool(const std::string& tool, const std::vector<std::string>& args,
                 const std::optional<Credentials>& run_as, const std::string& cwd,
                 const std::string& log_path, const testing::Env& extra_env = {},
                 int timeout_s = 120);

class BareCluster {
 public:
  explicit BareCluster(BareSettings settings = {});
  ~BareCluster();
  BareCluster(const BareCluster&) = delete;
  BareCluster& operator=(const BareCluster&) = delete;

  // Creates the directories (owned by the run-as account); not part of any figure.
  Status Prepare();

  // initdb -U user --pwfile --encoding=UTF8 --auth-local=trust --auth-host=scram-sha-256
  Status Initdb();
  // pg_ctl start -w, with port, sockets, listen address and shared_buffers as -o options.
  Status Start();
  // postgres itself, exec'd directly (no pg_ctl, no shell) with Start()'s settings: the floor
  // under any supervisor. The caller stops it (SIGINT: fast shutdown) and reaps it.
  Result<Child> SpawnPostgres();
  // pg_ctl stop -m fast (-w).
  Status Stop();
  // createdb over the socket (trust, as initdb set it up).
  Status CreateDb();
  // psql -c 'SELECT 1' over TCP to the database (SCRAM, password in PGPASSWORD).
  Status QueryOnce();

  // libpq parameters for a TCP connection as the user to the database (what QueryOnce uses).
  ConnParams Conn() const;
  pid_t PostmasterPid() const;
  const std::string& datadir() const { return datadir_; }
  std::string Log() const;
  // What postgres itself wrote (pg_ctl -l), for where a step's time went.
  std::string ServerLog() const;

 private:
  // The server's -c settings: port, sockets, listen address, shared_buffers.
  std::vector<std::string> ServerSettings() const;
  // Runs a tool as the run-as account to completion (bounded by `timeout`).
  Status RunTool(const std::string& tool, std::vector<std::string> args,
                 const testing::Env& extra_env = {}, int timeout_s = 120);

  BareSettings settings_;
  testing::TempDir dir_;
  std::optional<Credentials> run_as_;  // set when root
  std::string root_;                   // owned by the run-as account
  std::string datadir_;
  std::string socket_dir_;
  std::string pwfile_;
  std::string server_log_;
  std::string tool_log_;
  int port_;
};

}  // namespace pgrt::bench
