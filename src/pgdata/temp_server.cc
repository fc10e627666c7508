#include "pgdata/temp_server.h"

#include <signal.h>
#include <sys/wait.h>

#include "pgdata/postgres_process.h"

namespace pgrt {

Task<Result<TempServer>> TempServer::Start(const TaskContext& tc, const NodeContext& ctx,
                                           const std::string& datadir,
                                           const std::string& private_dir) {
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
  auto child = LoopChild::Spawn(tc.exits, spec);
  if (!child.ok()) co_return child.status();
  TempServer server(std::move(*child), private_dir, port, ctx.config.user);
  LoopChild& c = server.child_;
  // postmaster.pid says "ready" once connections are accepted: no failed early pings.
  std::function<bool()> up = [&] {
    return !c.running() || PostmasterStatus(datadir, c.pid()) == "ready";
  };
  Status ready =
      co_await PollUntil(tc, std::move(up), Millis(120000), Millis(2), "wait for temporary server");
  if (!ready.ok()) co_return ready;
  if (!c.running())
    co_return Status::Error("temporary server " + DescribeWaitStatus(*c.child().exit_status()) +
                            " (its log is above)");
  co_return std::move(server);
}

ConnParams TempServer::Conn(const std::string& dbname) const {
  return {{"host", socket_dir_},     {"port", std::to_string(port_)},
          {"user", user_},           {"dbname", dbname},
          {"connect_timeout", "10"}, {"application_name", "pgrt-init"}};
}

Task<Status> TempServer::Stop(const TaskContext& tc) {
  PGRT_CO_RETURN_IF_ERROR(child_.child().Signal(SIGINT), "stop temporary server");
  auto ws = co_await WaitExit(tc, child_, Millis(60000));
  if (!ws.ok()) co_return ws.status().Wrap("stop temporary server");
  if (!ExitedCleanly(*ws)) co_return Status::Error("temporary server " + DescribeWaitStatus(*ws));
  co_return Status::Ok();
}

}  // namespace pgrt
