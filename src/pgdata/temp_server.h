// TempServer: a postgres that listens only on a socket in a private directory, for work
// that must happen before the node is reachable (init scripts, role set-up). Stopped and
// reaped by Stop() or, at the latest, by the destructor.
#pragma once

#include <optional>
#include <string>

#include "pg/connection.h"
#include "pgdata/context.h"
#include "process/command.h"

namespace pgrt {

class TempServer {
 public:
  // `private_dir`: a 0700 directory of the run-as account for the socket.
  static Result<TempServer> Start(const NodeContext& ctx, Waiter& waiter,
                                  const std::string& datadir, const std::string& private_dir);
  TempServer(TempServer&&) = default;
  TempServer& operator=(TempServer&&) = default;

  // Connection parameters for the socket (no password: the socket dir is private and
  // the scratch cluster trusts local connections until pgrt's pg_hba.conf replaces it).
  ConnParams Conn(const std::string& dbname) const;
  const std::string& socket_dir() const { return socket_dir_; }
  int port() const { return port_; }

  // Fast shutdown, waiting for the exit.
  Status Stop(Waiter& waiter);

 private:
  TempServer(Child child, std::string socket_dir, int port, std::string user)
      : child_(std::move(child)),
        socket_dir_(std::move(socket_dir)),
        port_(port),
        user_(std::move(user)) {}
  Child child_;
  std::string socket_dir_;
  int port_;
  std::string user_;
};

}  // namespace pgrt
