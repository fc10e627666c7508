#include "node/initialize.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "node/init_scripts.h"
#include "pg/connection.h"
#include "pg/offline_quote.h"
#include "pgdata/data_dir.h"
#include "pgdata/private_dir.h"
#include "pgdata/single_user.h"
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

// The set-up SQL of a new cluster, split by the database it runs in.
struct SetUpSql {
  std::vector<std::string> in_postgres;  // CREATE DATABASE POSTGRES_DB
  std::vector<std::string> in_db;        // extensions in POSTGRES_DB
};
using QuoteIdentFn = std::function<std::optional<std::string>(std::string_view)>;

// nullopt when `quote` refuses a name (it says why through its own log or error).
std::optional<SetUpSql> SetUpStatements(const Config& config, int major,
                                        const QuoteIdentFn& quote) {
  SetUpSql sql;
  if (config.db != "postgres") {
    auto name = quote(config.db);
    if (!name) return std::nullopt;
    // The template of a new cluster is small and set-up runs with fsync off, so copying its
    // files (and the checkpoints that brings) beats WAL-logging every page, the default
    // since PostgreSQL 15; the copy also leaves less to flush afterwards.
    sql.in_postgres.push_back("CREATE DATABASE " + *name +
                              (major >= 15 ? " STRATEGY = FILE_COPY" : ""));
  }
  for (const auto& ext : config.extensions) {
    auto name = quote(ext);
    if (!name) return std::nullopt;
    sql.in_db.push_back("CREATE EXTENSION IF NOT EXISTS " + *name);
  }
  // The status page's performance report reads pg_stat_statements in POSTGRES_DB. A
  // default, not a request: where it is not installed the node still starts.
  sql.in_db.push_back(
      "DO $$BEGIN IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = "
      "'pg_stat_statements') THEN CREATE EXTENSION IF NOT EXISTS pg_stat_statements; ELSE "
      "RAISE NOTICE 'pg_stat_statements is not available: the performance report stays "
      "empty'; END IF; END$$");
  return sql;
}

int DataMajorVersion(const std::string& datadir) {
  auto v = ReadFile(JoinPath(datadir, "PG_VERSION"));
  return v.ok() ? std::atoi(v->c_str()) : 0;
}

// Synchronous libpq on the temporary server's socket: run off the loop's thread (OffThread),
// so it owns copies of what it reads.
Status RunOverLibpq(const Config& config, int major, const ConnParams& admin_conn,
                    const ConnParams& db_conn) {
  auto admin = PgConn::Connect(admin_conn);
  if (!admin.ok()) return admin.status();
  Status quoting = Status::Ok();
  // Quoted by libpq for the cluster's encoding (one for every database of it).
  auto quote = [&](std::string_view name) -> std::optional<std::string> {
    auto q = admin->QuoteIdent(name);
    if (q.ok()) return *q;
    quoting = q.status();
    return std::nullopt;
  };
  auto sql = SetUpStatements(config, major, quote);
  if (!sql) return quoting;
  for (const auto& statement : sql->in_postgres)
    PGRT_RETURN_IF_ERROR(admin->Exec(statement), "create database");
  auto db = PgConn::Connect(db_conn);  // POSTGRES_DB exists now
  if (!db.ok()) return db.status();
  for (const auto& statement : sql->in_db)
    PGRT_RETURN_IF_ERROR(db->Exec(statement), "set up " + config.db);
  return Status::Ok();
}

// With init scripts: a temporary server on a private socket, as they expect one.
Task<Status> SetUpWithTemporaryServer(const TaskContext& tc, const NodeContext& ctx,
                                      const std::string& scratch, const std::string& private_dir) {
  auto server = co_await TempServer::Start(tc, ctx, scratch, private_dir);
  if (!server.ok()) co_return server.status();
  // Closures are named before a co_await, never made inside its expression: GCC 12
  // destroys such a temporary twice (a double free). See process/task.h.
  std::function<Status()> create =
      [config = ctx.config, major = DataMajorVersion(scratch), admin = server->Conn("postgres"),
       db = server->Conn(ctx.config.db)] { return RunOverLibpq(config, major, admin, db); };
  Status setup = co_await OffThread(tc, std::move(create), Millis(0), "create the database");
  if (setup.ok()) setup = co_await RunInitScripts(tc, ctx, *server, scratch);
  // A clean stop, not the destructor's SIGKILL, on failure too: a killed postgres leaves its
  // dynamic shared memory in /dev/shm, and a container retrying a failing script would fill it.
  Status stopped = co_await server->Stop(tc);
  if (setup.ok()) co_return stopped;
  stopped.IgnoreError();  // the set-up error is the one worth reporting
  co_return setup;
}

// Without init scripts nothing needs a server: single-user backends run the set-up SQL
// (no postmaster to start, wait for and shut down; ≈ a third of a second of a first boot).
Task<Status> SetUpWithoutServer(const TaskContext& tc, const NodeContext& ctx,
                                const std::string& scratch, const std::string& private_dir,
                                const SetUpSql& sql) {
  if (!sql.in_postgres.empty())
    PGRT_CO_RETURN_IF_ERROR(
        co_await RunSingleUser(tc, ctx, scratch, private_dir, "postgres", sql.in_postgres),
        "create database");
  PGRT_CO_RETURN_IF_ERROR(
      co_await RunSingleUser(tc, ctx, scratch, private_dir, ctx.config.db, sql.in_db),
      "set up " + ctx.config.db);
  co_return Status::Ok();
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

  // A name a single-user backend could not read (a control character) takes the server's
  // path too: libpq quotes anything there.
  std::optional<SetUpSql> offline =
      SetUpStatements(ctx.config, DataMajorVersion(l.init_scratch), QuoteIdentOffline);
  if (HasInitScripts(ctx) || !offline) {
    spdlog::info("setting up the new cluster on a temporary server");
    PGRT_CO_RETURN_IF_ERROR(
        co_await SetUpWithTemporaryServer(tc, ctx, l.init_scratch, priv->path()), "initialize");
  } else {
    spdlog::info("setting up the new cluster in single-user mode (no init scripts)");
    PGRT_CO_RETURN_IF_ERROR(
        co_await SetUpWithoutServer(tc, ctx, l.init_scratch, priv->path(), *offline), "initialize");
  }
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
