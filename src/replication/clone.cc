#include "replication/clone.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "pgdata/control_file.h"
#include "pgdata/data_dir.h"
#include "pgdata/private_dir.h"
#include "process/command.h"
#include "replication/conninfo.h"
#include "replication/login_failure.h"
#include "util/fs.h"

namespace pgrt {

ConnParams PrimaryConn(const Config& c, const Upstream& up, const std::string& dbname) {
  ConnParams p = {{"host", up.host},
                  {"port", std::to_string(up.port)},
                  {"user", c.replication_user},
                  {"password", c.replication_password},
                  {"dbname", dbname},
                  {"connect_timeout", "3"},
                  {"application_name", "pgrt-clone"}};
  for (const auto& [k, v] : PeerTlsParams(c, c.tls_ca_file)) p[k] = v;  // pgrt reads it
  return p;
}

namespace {
// How long start-up waits for one piece of blocking work on the primary before it gives up
// on it (a connect ends within connect_timeout; a query only when the server answers).
constexpr Millis kOffThreadLimit{60000};
}  // namespace

Task<Status> WaitForPrimary(const TaskContext& tc, const NodeContext& ctx, const Upstream& up) {
  const Config& c = ctx.config;
  const Clock& clock = tc.loop.clock();
  SteadyTime next_log = clock.Now();
  Millis delay(50);
  bool refused = false;  // the operator was told the password is refused
  for (;;) {
    // Off the loop's thread: a primary that accepts connections and never answers holds a
    // connect for connect_timeout, and a host name is resolved synchronously.
    std::function<Status()> connect = [params = PrimaryConn(c, up)] {
      return PgConn::Connect(params).status();
    };
    Status st = co_await OffThread(tc, std::move(connect), kOffThreadLimit, "wait for the primary");
    if (tc.cancel.cancelled()) co_return st;
    if (st.ok()) {
      if (refused) ctx.ReportProblem("");
      co_return st;
    }
    const std::string& error = st.message();
    const bool auth = IsAuthenticationFailure(error);
    if (clock.Now() >= next_log || (auth && !refused)) {
      if (auth) {
        std::string warning = ReplicationLoginWarning(c, error);
        spdlog::warn("{} (retrying)", warning);
        ctx.ReportProblem(warning);
      } else {
        spdlog::info("waiting for the primary {}:{}: {}", up.host, up.port, error);
        if (refused) ctx.ReportProblem("");
      }
      refused = auth;
      next_log = clock.Now() + Millis(10000);
    }
    // The backoff between tries; it ends early only for a termination signal.
    Status paused = co_await Sleep(tc, delay, "wait for the primary");
    if (!paused.ok()) co_return paused;
    delay = std::min(delay * 2, Millis(1000));
  }
}

namespace {

Task<Status> EnsureSlotOnPrimary(const TaskContext& tc, const Config& c, const Upstream& up) {
  if (up.slot.empty()) co_return Status::Ok();
  std::function<Status()> create = [params = PrimaryConn(c, up), slot = up.slot]() -> Status {
    auto conn = PgConn::Connect(params);
    if (!conn.ok()) return conn.status();
    auto r = conn->ExecParams(
        "SELECT pg_create_physical_replication_slot($1) WHERE NOT EXISTS "
        "(SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
        {slot});
    if (!r.ok() && !r.status().IsAlreadyExists())
      return r.status().Wrap("create slot " + slot + " on the primary");
    return Status::Ok();
  };
  const std::string what = "create slot " + up.slot;
  co_return co_await OffThread(tc, std::move(create), kOffThreadLimit, what);
}

}  // namespace

SpawnSpec BaseBackupSpec(const NodeContext& ctx, const Upstream& up, const std::string& target,
                         const std::string& passfile) {
  const Config& c = ctx.config;
  SpawnSpec spec;
  spec.name = "pg_basebackup";
  spec.argv = {ctx.Bin("pg_basebackup"),
               "-D",
               target,
               "-h",
               up.host,
               "-p",
               std::to_string(up.port),
               "-U",
               c.replication_user,
               "-X",
               "stream",
               "-c",
               "fast",
               "-w",
               "--no-sync"};
  // Bytes done of the server's estimate, once a second (the status's progress).
  spec.argv.push_back("--progress");
  if (!up.slot.empty()) {
    spec.argv.push_back("-S");
    spec.argv.push_back(up.slot);
  }
  if (!c.initdb_waldir.empty()) spec.argv.push_back("--waldir=" + c.initdb_waldir);
  spec.env = ctx.child_env;
  spec.env["PGPASSFILE"] = passfile;  // a path, not the password
  spec.env["PGAPPNAME"] = "pgrt-clone";
  spec.env["PGCONNECT_TIMEOUT"] = "5";
  // Before PGDATA holds its copy: the configured CA, which PGRT_RUN_AS must be able to read.
  for (const auto& [k, v] : PeerTlsParams(c, c.tls_ca_file))
    spec.env[k == "sslmode" ? "PGSSLMODE" : "PGSSLROOTCERT"] = v;
  spec.run_as = ctx.run_as;
  return spec;
}

namespace {

Task<Status> RunBaseBackup(const TaskContext& tc, const NodeContext& ctx, const Upstream& up,
                           const std::string& target, const std::string& passfile, Millis timeout) {
  const Config& c = ctx.config;
  SpawnSpec spec = BaseBackupSpec(ctx, up, target, passfile);
  std::string pending;  // output after the last line end
  std::function<void(std::string_view)> progress = [&ctx, &pending](std::string_view out) {
    pending.append(out);
    const size_t end = pending.find_last_of("\r\n");
    if (end == std::string::npos) return;
    if (auto reading = LastBaseBackupProgress(std::string_view(pending).substr(0, end)))
      ctx.ReportProgress("clone", reading);
    pending.erase(0, end + 1);
  };
  auto r = co_await RunCommand(tc, spec, /*capture=*/true, timeout, std::move(progress));
  ctx.ReportProgress("clone", std::nullopt);
  if (!r.ok()) co_return r.status();
  if (!ExitedCleanly(r->wait_status)) {
    if (IsAuthenticationFailure(r->output))
      co_return Status::Error("pg_basebackup: " + ReplicationLoginWarning(c, Tail(r->output)));
    co_return Status::Error("pg_basebackup " + DescribeWaitStatus(r->wait_status) + ": " +
                            Tail(r->output));
  }
  co_return Status::Ok();
}

}  // namespace

Task<Status> CloneIntoScratch(const TaskContext& tc, const NodeContext& ctx, const Upstream& up,
                              Millis timeout) {
  auto priv = PrivateDir::Create(ctx);
  if (!priv.ok()) co_return priv.status();
  const std::string passfile = JoinPath(priv->path(), "pgpass");
  if (Status st = WriteOwnedFile(ctx, passfile, PassfileLine(ctx.config, up), 0600); !st.ok())
    co_return st;
  co_return co_await RunBaseBackup(tc, ctx, up, ctx.layout.init_scratch, passfile, timeout);
}

Task<Status> CloneFromPrimary(const TaskContext& tc, const NodeContext& ctx, const Upstream& up,
                              Timings& timings, const Clock& clock) {
  const NodeLayout& l = ctx.layout;
  const Config& c = ctx.config;
  PGRT_CO_RETURN_IF_ERROR(co_await WaitForPrimary(tc, ctx, up), "clone");
  timings.EndPhase("wait_primary", clock.Now());
  PGRT_CO_RETURN_IF_ERROR(co_await EnsureSlotOnPrimary(tc, c, up), "clone");

  PGRT_CO_RETURN_IF_ERROR(PrepareScratch(ctx), "clone");
  spdlog::info("cloning {}:{} into {}", up.host, up.port, l.pgdata);
  PGRT_CO_RETURN_IF_ERROR(co_await CloneIntoScratch(tc, ctx, up), "clone");
  // pg_basebackup ran with --no-sync: one syncfs, which may take a while on a slow disk.
  std::function<Status()> sync = [ctx] { return PlaceClone(ctx, false); };
  PGRT_CO_RETURN_IF_ERROR(co_await OffThread(tc, std::move(sync), Millis(0), "sync the clone"),
                          "clone");
  timings.EndPhase("clone", clock.Now());
  co_return PlaceClone(ctx, true);
}

Status PlaceClone(const NodeContext& ctx, bool move) {
  const NodeLayout& l = ctx.layout;
  if (!move) {
    // The primary's role file came along: it speaks of the primary, not of this replica.
    PGRT_RETURN_IF_ERROR(RemoveIfPresent(JoinPath(l.init_scratch, kRoleFileName)), "clone");
    PGRT_RETURN_IF_ERROR(SyncFileSystem(l.init_scratch), "clone");
    return WriteOwnedFile(ctx, JoinPath(l.init_scratch, "standby.signal"), "", 0600).Wrap("clone");
  }
  PGRT_RETURN_IF_ERROR(
      WriteOwnedFile(ctx, JoinPath(l.init_scratch, kInitCompleteMarker), "complete\n", 0600),
      "clone");
  return MoveScratchIntoPlace(l).Wrap("clone");
}

Result<uint64_t> LocalSystemIdentifier(const std::string& pgdata) {
  auto control = ReadControlFile(pgdata);
  if (!control.ok()) return control.status();
  return control->system_identifier;
}

std::optional<uint64_t> PrimarySystemIdentifier(const Config& c, const Upstream& up) {
  auto conn = PgConn::Connect(PrimaryConn(c, up));
  if (!conn.ok()) return std::nullopt;
  auto r = conn->Exec("SELECT system_identifier FROM pg_control_system()");
  if (!r.ok() || r->rows() != 1) return std::nullopt;
  return std::stoull(r->Get(0, 0));
}

}  // namespace pgrt
