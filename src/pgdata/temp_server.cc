#include "pgdata/temp_server.h"

#include <signal.h>
#include <sys/wait.h>

#include "pgdata/postgres_process.h"

namespace pgrt {

Result<TempServer> TempServer::Start(const NodeContext& ctx, Waiter& waiter,
                                     const std::string& datadir, const std::string& private_dir) {
  const int port = ctx.config.port;  // a socket only: the port just names the socket file
  // fsync=off: nothing the temporary server writes counts until InitializeCluster has
  // synced the whole file system once (SyncFileSystem) and only then written the marker;
  // a crash before that discards the scratch. Spares its commits' and shutdown
  // checkpoint's fsyncs (≈ 300 files after CREATE DATABASE).
  SpawnSpec spec =
      PostgresSpawnSpec(ctx, datadir,
                        {"-c", "listen_addresses=", "-c", "unix_socket_directories=" + private_dir,
                         "-p", std::to_string(port), "-c", "synchronous_standby_names=", "-c",
                         "archive_mode=off", "-c", "fsync=off"});
  spec.name = "postgres (temporary)";
  auto child = Child::Spawn(spec);
  if (!child.ok()) return child.status();
  TempServer server(std::move(*child), private_dir, port, ctx.config.user);
  Child& c = server.child_;
  // postmaster.pid says "ready" once connections are accepted: no failed early pings.
  Status ready = waiter.WaitUntil(
      [&] { return !c.running() || PostmasterStatus(datadir, c.pid()) == "ready"; }, Millis(120000),
      Millis(2), "wait for temporary server", &c);
  if (!ready.ok()) return ready;
  if (!c.running())
    return Status::Error("temporary server " + DescribeWaitStatus(*c.exit_status()) +
                         " (its log is above)");
  return server;
}

ConnParams TempServer::Conn(const std::string& dbname) const {
  return {{"host", socket_dir_},     {"port", std::to_string(port_)},
          {"user", user_},           {"dbname", dbname},
          {"connect_timeout", "10"}, {"application_name", "pgrt-init"}};
}

Status TempServer::Stop(Waiter& waiter) {
  PGRT_RETURN_IF_ERROR(child_.Signal(SIGINT), "stop temporary server");
  auto ws = waiter.WaitFor(child_, Millis(60000));
  if (!ws.ok()) return ws.status().Wrap("stop temporary server");
  if (!ExitedCleanly(*ws)) return Status::Error("temporary server " + DescribeWaitStatus(*ws));
  return Status::Ok();
}

}  // namespace pgrt
