// What every node step needs to know: the config, where files live, who children run as.
#pragma once

#include <map>
#include <string>

#include "config/config.h"
#include "node/layout.h"
#include "process/user.h"

namespace pgrt {

struct NodeContext {
  const Config& config;
  NodeLayout layout;
  Credentials run_as;
  std::map<std::string, std::string> child_env;  // scrubbed: no secrets

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

// mkdir -p with the run-as account as owner of the last component.
Status MakeOwnedDirectory(const NodeContext& ctx, const std::string& path, mode_t mode);

}  // namespace pgrt
