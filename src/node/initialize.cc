#include "node/initialize.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "node/init_scripts.h"
#include "pg/connection.h"
#include "pgdata/data_dir.h"
#include "pgdata/private_dir.h"
#include "pgdata/temp_server.h"
#include "process/command.h"
#include "util/fs.h"

namespace pgrt {
namespace {

std::vector<std::string> SplitWords(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  std::string w;
  while (in >> w) words.push_back(w);
  return words;
}

Task<Status> RunInitdb(const TaskContext& tc, const NodeContext& ctx, const std::string& scratch,
                       const std::string& private_dir) {
  // The password reaches initdb as its stdin, a file without a name: nothing on disk holds
  // it, whenever pgrt dies.
  auto pwfile = UnnamedSecretFile(ctx, private_dir, ctx.config.password + "\n");
  if (!pwfile.ok()) co_return pwfile.status().Wrap("initdb");
  SpawnSpec spec;
  spec.name = "initdb";
  spec.stdin_fd = pwfile->get();
  spec.argv = {ctx.Bin("initdb"),
               "-D",
               scratch,
               "--username=" + ctx.config.user,
               "--pwfile=/dev/stdin",
               "--encoding=UTF8",
               "--auth-local=trust",
               "--auth-host=scram-sha-256",
               "--no-instructions",
               "--no-sync"};  // one syncfs() at the end instead
  if (!ctx.config.initdb_waldir.empty()) {
    PGRT_CO_RETURN_IF_ERROR(MakeOwnedDirectory(ctx, ctx.config.initdb_waldir, 0700),
                            "POSTGRES_INITDB_WALDIR");
    spec.argv.push_back("--waldir=" + ctx.config.initdb_waldir);
  }
  for (auto& w : SplitWords(ctx.config.initdb_args)) spec.argv.push_back(w);
  spec.env = ctx.child_env;
  spec.run_as = ctx.run_as;
  auto r = co_await RunCommand(tc, spec, /*capture=*/true);
  if (!r.ok()) co_return r.status();
  if (!ExitedCleanly(r->wait_status))
    co_return Status::Error("initdb " + DescribeWaitStatus(r->wait_status) + ": " +
                            Tail(r->output));
  co_return Status::Ok();
}

// Synchronous libpq on the temporary server's socket: run off the loop's thread (OffThread),
// so it owns copies of what it reads.
Status CreateDatabaseAndExtensions(const Config& config, const ConnParams& admin_conn,
                                   const ConnParams& db_conn) {
  auto admin = PgConn::Connect(admin_conn);
  if (!admin.ok()) return admin.status();
  if (config.db != "postgres") {
    auto name = admin->QuoteIdent(config.db);
    if (!name.ok()) return name.status();
    // The template of a new cluster is small and the temporary server runs with fsync=off,
    // so copying its files (and the checkpoints that brings) beats WAL-logging every page,
    // the default since PostgreSQL 15; the copy also leaves less to flush afterwards.
    const char* strategy = admin->server_version() >= 150000 ? " STRATEGY = FILE_COPY" : "";
    auto r = admin->Exec("CREATE DATABASE " + *name + strategy);
    if (!r.ok()) return r.status().Wrap("create database");
  }
  auto db = PgConn::Connect(db_conn);
  if (!db.ok()) return db.status();
  for (const auto& ext : config.extensions) {
    auto name = db->QuoteIdent(ext);
    if (!name.ok()) return name.status();
    auto r = db->Exec("CREATE EXTENSION IF NOT EXISTS " + *name);
    if (!r.ok()) return r.status().Wrap("create extension " + ext);
  }
  // The status page's performance report reads pg_stat_statements in POSTGRES_DB. A
  // default, not a request: where it is not installed the node still starts.
  auto available =
      db->Exec("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements'");
  if (!available.ok() || available->rows() == 0) {
    spdlog::info("pg_stat_statements is not available: the performance report stays empty");
    return Status::Ok();
  }
  auto r = db->Exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  if (!r.ok()) return r.status().Wrap("create extension pg_stat_statements");
  return Status::Ok();
}

}  // namespace

Task<Status> InitializeCluster(const TaskContext& tc, const NodeContext& ctx, Timings& timings,
                               const Clock& clock) {
  const NodeLayout& l = ctx.layout;
  PGRT_CO_RETURN_IF_ERROR(PrepareScratch(ctx), "initialize");
  auto priv = PrivateDir::Create(ctx);
  if (!priv.ok()) co_return priv.status().Wrap("initialize");

  spdlog::info("initializing a new cluster in {}", l.pgdata);
  PGRT_CO_RETURN_IF_ERROR(co_await RunInitdb(tc, ctx, l.init_scratch, priv->path()), "initialize");
  timings.EndPhase("initdb", clock.Now());

  auto server = co_await TempServer::Start(tc, ctx, l.init_scratch, priv->path());
  if (!server.ok()) co_return server.status().Wrap("initialize");
  // Closures are named before a co_await, never made inside its expression: GCC 12
  // destroys such a temporary twice (a double free). See process/task.h.
  std::function<Status()> create = [config = ctx.config, admin = server->Conn("postgres"),
                                    db = server->Conn(ctx.config.db)] {
    return CreateDatabaseAndExtensions(config, admin, db);
  };
  Status setup = co_await OffThread(tc, std::move(create), Millis(0), "create the database");
  if (setup.ok()) setup = co_await RunInitScripts(tc, ctx, *server, l.init_scratch);
  if (!setup.ok()) {
    // A clean stop, not the destructor's SIGKILL: a killed postgres leaves its dynamic shared
    // memory in /dev/shm, and a container retrying a failing script would fill it.
    Status stopped = co_await server->Stop(tc);
    stopped.IgnoreError();  // the setup error is the one worth reporting
    co_return setup.Wrap("initialize");
  }
  PGRT_CO_RETURN_IF_ERROR(co_await server->Stop(tc), "initialize");
  // One flush of the file system (and of the WAL's, when POSTGRES_INITDB_WALDIR puts it on
  // another one): slow on a busy disk, so off the loop's thread.
  std::function<Status()> sync = [scratch = l.init_scratch, waldir = ctx.config.initdb_waldir] {
    PGRT_RETURN_IF_ERROR(SyncFileSystem(scratch), "sync");
    if (!waldir.empty()) PGRT_RETURN_IF_ERROR(SyncFileSystem(waldir), "sync the WAL");
    return Status::Ok();
  };
  PGRT_CO_RETURN_IF_ERROR(
      co_await OffThread(tc, std::move(sync), Millis(0), "sync the new cluster"), "initialize");
  timings.EndPhase("setup", clock.Now());

  PGRT_CO_RETURN_IF_ERROR(
      WriteOwnedFile(ctx, JoinPath(l.init_scratch, kInitCompleteMarker), "complete\n", 0600),
      "initialize");
  PGRT_CO_RETURN_IF_ERROR(MoveScratchIntoPlace(l), "initialize");
  co_return Status::Ok();
}

}  // namespace pgrt
