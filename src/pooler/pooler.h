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
  static Result<std::unique_ptr<Pooler>> Create(const NodeContext& ctx);
  Pooler(const Pooler&) = delete;
  Pooler& operator=(const Pooler&) = delete;

  // Writes PgBouncer's files and starts it under `supervisor`. Later calls do nothing.
  Status Start(EventLoop& loop, Supervisor& supervisor);
  // Stops PgBouncer, then calls `done` (at once when it is not running). Fast: SIGINT in
  // transaction/statement mode, so running transactions finish (it waits for no idle
  // client); SIGTERM in session mode, where idle sessions would hold it; immediate: SIGTERM.
  // Killed after kStopTimeout (3 s).
  void Stop(bool immediate, std::function<void()> done);
  // Rewrites the files and has a running PgBouncer reload them (SIGHUP).
  void Reload();

  // libpq parameters for the admin console (database "pgbouncer") over the Unix socket.
  const ConnParams& ConsoleParams() const { return console_; }
  const PoolerPaths& paths() const { return paths_; }
  // The errors PgBouncer has logged since Start (pgbouncer_errors_count), across restarts.
  const PgbouncerErrorCounts& errors() const { return errors_; }

 private:
  Pooler(const NodeContext& ctx, std::string stats_secret, ConnParams console);
  Status WriteFiles();
  ServiceSpec Spec() const;

  const NodeContext& ctx_;
  const PoolerPaths paths_;
  const std::string stats_secret_;
  const ConnParams console_;
  EventLoop* loop_ = nullptr;
  Supervisor* supervisor_ = nullptr;
  bool stopping_ = false;
  PgbouncerErrorCounts errors_;
  std::unique_ptr<PgbouncerLog> log_;  // PgBouncer's stderr, from Start on
};

}  // namespace pgrt
