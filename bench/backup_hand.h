// The baseline of the backup benchmark: pgBackRest driven by hand, as a careful operator's
// script would, with the same settings pgrt uses (same repository, stanza, pg1 options,
// start-fast) but its own config file, lock directory and passfile. Restores go into a
// fresh directory and are started with pg_ctl. Runs the tools as postgres when root.
#pragma once

#include <optional>
#include <string>

#include "harness/harness.h"
#include "process/user.h"
#include "util/status.h"

namespace pgrt::bench {

struct HandTarget {
  std::string repo;        // PGBACKREST_REPO1_PATH
  std::string pgdata;      // the source cluster
  std::string socket_dir;  // its socket
  int port = 0;
  std::string user;
  std::string password;
  testing::Env pgbackrest_env;  // the PGBACKREST_* pgrt also gets
};

class HandPgBackRest {
 public:
  explicit HandPgBackRest(HandTarget target);
  Status Prepare();  // config, passfile, lock dir; not timed

  // pgbackrest backup --type=<type>, to completion.
  Status Backup(const std::string& type);
  // pgbackrest restore (latest) into a new directory, pg_ctl start -w, then until a
  // connection sees the server out of recovery. Leaves it running; StopRestored() ends it.
  Status Restore();
  Status StopRestored();  // pg_ctl stop -m immediate, directory removed; not timed

  std::string Log() const;

 private:
  Status Run(const std::string& name, std::vector<std::string> argv, int timeout_s);

  HandTarget t_;
  testing::TempDir dir_;
  std::optional<Credentials> run_as_;
  std::string conf_, passfile_, lock_dir_, log_;
  std::string restore_dir_, restore_sock_;
  int restore_port_ = 0;
  int restores_ = 0;
};

// Until a new connection with `params` answers that the server is not in recovery.
bool WaitWritable(const ConnParams& params, std::chrono::milliseconds timeout);

}  // namespace pgrt::bench
