// TempServer: a postgres that listens only on a socket in a private directory, for work
// that must happen before the node is reachable (init scripts, role set-up). Its exit is a
// loop event for as long as it lives; stopped by Stop() or, at the latest, killed and reaped
// by the destructor.
#pragma once

#include <optional>
#include <string>

#include "pg/connection.h"
#include "pgdata/context.h"
#include "process/awaitables.h"
#include "process/child_exits.h"

namespace pgrt {

class TempServer {
 public:
  // Starts it and waits (as a step of the task) until it accepts connections.
  // `private_dir`: a 0700 directory of the run-as account for the socket.
  static Task<Result<TempServer>> Start(const TaskContext& tc, const NodeContext& ctx,
                                        const std::string& datadir, const std::string& private_dir);
  TempServer(TempServer&&) = default;
  TempServer& operator=(TempServer&&) = default;

  // Connection parameters for the socket (no password: the socket dir is private and
  // the scratch cluster trusts local connections until pgrt's pg_hba.conf replaces it).
  ConnParams Conn(const std::string& dbname) const;
  const std::string& socket_dir() const { return socket_dir_; }
  int port() const { return port_; }

  // Fast shutdown, waiting for the exit.
  Task<Status> Stop(const TaskContext& tc);

 private:
  TempServer(LoopChild child, std::string socket_dir, int port, std::string user)
      : child_(std::move(child)),
        socket_dir_(std::move(socket_dir)),
        port_(port),
        user_(std::move(user)) {}
  LoopChild child_;
  std::string socket_dir_;
  int port_;
  std::string user_;
};

}  // namespace pgrt
