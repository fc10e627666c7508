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

Status RunInitdb(const NodeContext& ctx, Waiter& waiter, const std::string& scratch,
                 const std::string& private_dir) {
  // The password reaches initdb as its stdin, a file without a name: nothing on disk holds
  // it, whenever pgrt dies.
  auto pwfile = UnnamedSecretFile(ctx, private_dir, ctx.config.password + "\n");
  if (!pwfile.ok()) return pwfile.status().Wrap("initdb");
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
    PGRT_RETURN_IF_ERROR(MakeOwnedDirectory(ctx, ctx.config.initdb_waldir, 0700),
                         "POSTGRES_INITDB_WALDIR");
    spec.argv.push_back("--waldir=" + ctx.config.initdb_waldir);
  }
  for (auto& w : SplitWords(ctx.config.initdb_args)) spec.argv.push_back(w);
  spec.env = ctx.child_env;
  spec.run_as = ctx.run_as;
  auto r = waiter.Run(spec, /*capture=*/true);
  if (!r.ok()) return r.status();
  if (!ExitedCleanly(r->wait_status))
    return Status::Error("initdb " + DescribeWaitStatus(r->wait_status) + ": " + Tail(r->output));
  return Status::Ok();
}

Status CreateDatabaseAndExtensions(const NodeContext& ctx, const TempServer& server) {
  auto admin = PgConn::Connect(server.Conn("postgres"));
  if (!admin.ok()) return admin.status();
  if (ctx.config.db != "postgres") {
    auto name = admin->QuoteIdent(ctx.config.db);
    if (!name.ok()) return name.status();
    // The template of a new cluster is small and the temporary server runs with fsync=off,
    // so copying its files (and the checkpoints that brings) beats WAL-logging every page,
    // the default since PostgreSQL 15; the copy also leaves less to flush afterwards.
    const char* strategy = admin->server_version() >= 150000 ? " STRATEGY = FILE_COPY" : "";
    auto r = admin->Exec("CREATE DATABASE " + *name + strategy);
    if (!r.ok()) return r.status().Wrap("create database");
  }
  auto db = PgConn::Connect(server.Conn(ctx.config.db));
  if (!db.ok()) return db.status();
  for (const auto& ext : ctx.config.extensions) {
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

Status InitializeCluster(const NodeContext& ctx, Waiter& waiter, Timings& timings,
                         const Clock& clock) {
  const NodeLayout& l = ctx.layout;
  PGRT_RETURN_IF_ERROR(PrepareScratch(ctx), "initialize");
  auto priv = PrivateDir::Create(ctx);
  if (!priv.ok()) return priv.status().Wrap("initialize");

  spdlog::info("initializing a new cluster in {}", l.pgdata);
  PGRT_RETURN_IF_ERROR(RunInitdb(ctx, waiter, l.init_scratch, priv->path()), "initialize");
  timings.EndPhase("initdb", clock.Now());

  auto server = TempServer::Start(ctx, waiter, l.init_scratch, priv->path());
  if (!server.ok()) return server.status().Wrap("initialize");
  Status setup = CreateDatabaseAndExtensions(ctx, *server);
  if (setup.ok()) setup = RunInitScripts(ctx, waiter, *server, l.init_scratch);
  if (!setup.ok()) {
    // A clean stop, not the destructor's SIGKILL: a killed postgres leaves its dynamic shared
    // memory in /dev/shm, and a container retrying a failing script would fill it.
    server->Stop(waiter).IgnoreError();  // the setup error is the one worth reporting
    return setup.Wrap("initialize");
  }
  PGRT_RETURN_IF_ERROR(server->Stop(waiter), "initialize");
  PGRT_RETURN_IF_ERROR(SyncFileSystem(l.init_scratch), "initialize");
  // The WAL may live on another file system (POSTGRES_INITDB_WALDIR): it needs its own flush.
  if (!ctx.config.initdb_waldir.empty())
    PGRT_RETURN_IF_ERROR(SyncFileSystem(ctx.config.initdb_waldir), "initialize");
  timings.EndPhase("setup", clock.Now());

  PGRT_RETURN_IF_ERROR(
      WriteOwnedFile(ctx, JoinPath(l.init_scratch, kInitCompleteMarker), "complete\n", 0600),
      "initialize");
  PGRT_RETURN_IF_ERROR(MoveScratchIntoPlace(l), "initialize");
  return Status::Ok();
}

}  // namespace pgrt
