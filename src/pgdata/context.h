// What every node step needs to know: the config, where files live, who children run as.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "config/config.h"
#include "pgdata/layout.h"
#include "process/user.h"
#include "util/dir_ownership.h"
#include "util/progress.h"

namespace pgrt {

struct NodeContext {
  const Config& config;
  NodeLayout layout;
  Credentials run_as;
  std::map<std::string, std::string> child_env;  // scrubbed: no secrets
  // Tells the operator about a lasting problem a step keeps retrying (the node's status
  // `message`); "" when it is gone. Unset for tools and tests: then only the logs say it.
  std::function<void(const std::string&)> report_problem;

  void ReportProblem(const std::string& message) const {
    if (report_problem) report_problem(message);
  }
  // Long start-up work's progress ("clone", "restore"); nullopt once it ended. Unset for
  // tools and tests.
  std::function<void(const std::string& operation, const std::optional<ProgressReading>&)>
      report_progress;

  void ReportProgress(const std::string& operation,
                      const std::optional<ProgressReading>& reading) const {
    if (report_progress) report_progress(operation, reading);
  }

  std::string Bin(const std::string& tool) const { return JoinPath(config.pg_bindir, tool); }
  // libpq parameters for pgrt's own connections over the local socket.
  std::map<std::string, std::string> LocalConn(const std::string& dbname) const {
    return {{"host", layout.socket_dir}, {"port", std::to_string(config.port)},
            {"user", config.user},       {"password", config.password},
            {"dbname", dbname},          {"connect_timeout", "5"},
            {"application_name", "pgrt"}};
  }
};

// Writes a file pgrt owns inside PGDATA, owned by the run-as account.
Status WriteOwnedFile(const NodeContext& ctx, const std::string& path, const std::string& content,
                      mode_t mode = 0600);

// The run-as account's directory request for EnsureDirectory (util/dir_ownership.h).
DirRequest RunAsDirectory(const NodeContext& ctx, DirUse use, mode_t mode);

// A directory of the run-as account's own (its owner, nobody else writes): created with
// `mode`, or adopted when empty or holding a cluster, or used as it is; anything else is
// refused. Never through a symbolic link.
Status MakeOwnedDirectory(const NodeContext& ctx, const std::string& path, mode_t mode);

// A directory the run-as account only creates entries in (sockets, dump files): as above,
// but a directory it can already write to (a sticky, world-writable one) is used as it is.
Status MakeSharedDirectory(const NodeContext& ctx, const std::string& path, mode_t mode);

}  // namespace pgrt
