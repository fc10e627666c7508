// Pooler: PgBouncer in front of postgres (PGBOUNCER_ENABLED=true), as a supervised child.
//
// The node starts it once postgres is first ready (its auth_query needs postgres) and
// stops it before postgres, so clients are turned away by the pooler rather than cut off
// by a vanishing server. A crash is restarted by the supervisor; after too many, pgrt
// keeps trying every kRetryAfterGiveUp instead of taking postgres down with it.
//
// pgrt reaches PgBouncer's admin console as kPoolerStatsUser with a password made at each
// start that exists only in memory; the auth_file holds its SCRAM secret.
//
// PgBouncer's log (its stderr) passes through pgrt (PgbouncerLog), which counts the errors
// in it for /metrics on the way to pgrt's stderr.
//
// Thread-safety: everything runs on the event loop except ConsoleParams(), which returns
// values fixed at construction.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "pg/connection.h"
#include "pgdata/context.h"
#include "pooler/pgbouncer_errors.h"
#include "pooler/pgbouncer_files.h"
#include "pooler/pgbouncer_log.h"
#include "process/event_loop.h"
#include "process/supervisor.h"

namespace pgrt {

class Pooler {
 public:
  // `public_port`: PGBOUNCER_PORT as configured, which names the files' directory (with
  // PGRT_IDLE_TIMEOUT PgBouncer listens on a private port, ctx.config's, picked at each start).
  static Result<std::unique_ptr<Pooler>> Create(const NodeContext& ctx, int public_port);
  Pooler(const Pooler&) = delete;
  Pooler& operator=(const Pooler&) = delete;

  // Writes PgBouncer's files and starts it under `supervisor`. Later calls do nothing, and
  // so does a call while asleep (Sleep before the first start).
  Status Start(EventLoop& loop, Supervisor& supervisor);
  // Stops PgBouncer, then calls `done` (at once when it is not running). Fast: SIGINT in
  // transaction/statement mode, so running transactions finish (it waits for no idle
  // client); SIGTERM in session mode, where idle sessions would hold it; immediate: SIGTERM.
  // Killed after kStopTimeout (3 s).
  void Stop(bool immediate, std::function<void()> done);
  // Scale to zero (runtime/sleeper.h): PgBouncer sleeps with postgres. Sleep stops it as
  // Stop(false) does, so its server connections end and it never connects to a sleeping or
  // starting postgres; Resume starts it again when postgres wakes. PgBouncer connects to
  // postgres only for its clients, and they reach it through pgrt's door once postgres is
  // ready, so it may start while postgres does. Resume starts it if it is not running (not
  // before the node's first Start, nor once Stop was asked: pgrt is stopping).
  void Sleep(std::function<void()> done);
  Status Resume();
  bool asleep() const { return asleep_; }
  // Rewrites the files and has a running PgBouncer reload them (SIGHUP).
  void Reload();

  // libpq parameters for the admin console (database "pgbouncer") over the Unix socket.
  const ConnParams& ConsoleParams() const { return console_; }
  const PoolerPaths& paths() const { return paths_; }
  // The errors PgBouncer has logged since Start (pgbouncer_errors_count), across restarts.
  const PgbouncerErrorCounts& errors() const { return errors_; }

 private:
  Pooler(const NodeContext& ctx, PoolerPaths paths, std::string stats_secret, ConnParams console);
  Status WriteFiles();
  ServiceSpec Spec() const;

  const NodeContext& ctx_;
  const PoolerPaths paths_;
  const std::string stats_secret_;
  const ConnParams console_;
  EventLoop* loop_ = nullptr;
  Supervisor* supervisor_ = nullptr;
  bool stopping_ = false;
  bool asleep_ = false;
  PgbouncerErrorCounts errors_;
  std::unique_ptr<PgbouncerLog> log_;  // PgBouncer's stderr, from Start on
};

}  // namespace pgrt
