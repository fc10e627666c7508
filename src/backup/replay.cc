#include "backup/replay.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <sstream>

#include "backup/pgbackrest.h"
#include "pg/connection.h"
#include "pgdata/postgres_process.h"
#include "process/command.h"
#include "util/fs.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

// Recovery can replay days of WAL; SIGTERM still interrupts it at once.
constexpr Millis kReplayLimit{24LL * 3600 * 1000};
constexpr Millis kStopLimit{10LL * 60 * 1000};

std::vector<std::string> ServerArgs(const Config& c, const std::string& datadir,
                                    const std::string& private_dir) {
  std::vector<std::string> a = {"-c", "listen_addresses=",
                                "-c", "unix_socket_directories=" + private_dir,
                                "-p", std::to_string(c.port),
                                "-c", "hba_file=" + JoinPath(private_dir, "pg_hba.conf"),
                                "-c", "hot_standby=off",
                                "-c", "synchronous_standby_names=",
                                "-c", "ssl=off",
                                "-c", "restore_command=" + ArchiveGetCommand(c, datadir)};
  // With archiving on, the new timeline's history file is archived from the start; a
  // later restore of this node's backups needs it to follow the timeline switch.
  if (PgBackRestEnabled(c)) {
    a.insert(a.end(),
             {"-c", "archive_mode=on", "-c", "archive_command=" + ArchivePushCommand(c, datadir)});
  } else {
    a.insert(a.end(), {"-c", "archive_mode=off"});
  }
  return a;
}

// postgres's FATAL/PANIC lines: what a bad recovery target looks like from the outside.
std::string Fatals(const std::string& log) {
  std::istringstream in(log);
  std::string line, out;
  while (std::getline(in, line)) {
    size_t at = line.find("FATAL:");
    if (at == std::string::npos) at = line.find("PANIC:");
    if (at != std::string::npos) out += (out.empty() ? "" : "; ") + line.substr(at);
  }
  return out.empty() ? Tail(log, 600) : out;
}

Status SetSuperuserPassword(PgConn& conn, const Config& c) {
  auto role = conn.ExecParams("SELECT rolsuper FROM pg_roles WHERE rolname = $1", {c.user});
  if (!role.ok()) return role.status();
  if (role->rows() == 0 || role->Get(0, 0) != "t")
    return Status::Error("the restored cluster has no superuser " + c.user +
                         ": POSTGRES_USER must name a superuser of the backed-up cluster");
  auto ident = conn.QuoteIdent(c.user);
  if (!ident.ok()) return ident.status();
  // Computed here, so the password never reaches the server's statement log.
  char* verifier =
      PQencryptPasswordConn(conn.raw(), c.password.c_str(), c.user.c_str(), "scram-sha-256");
  if (verifier == nullptr) return Status::Error("encrypt password");
  std::string v = verifier;
  PQfreemem(verifier);
  auto literal = conn.QuoteLiteral(v);
  if (!literal.ok()) return literal.status();
  return conn.Exec("ALTER ROLE " + *ident + " PASSWORD " + *literal).status();
}

Status FinishOnPromotedServer(const Config& c, const std::string& socket_dir) {
  auto conn = PgConn::Connect({{"host", socket_dir},
                               {"port", std::to_string(c.port)},
                               {"user", c.user},
                               {"dbname", "template1"},
                               {"connect_timeout", "10"},
                               {"application_name", "pgrt-restore"}});
  if (!conn.ok()) return conn.status().Wrap("connect as POSTGRES_USER");
  auto rec = conn->Exec("SELECT pg_is_in_recovery()");
  if (!rec.ok()) return rec.status();
  if (rec->Get(0, 0) != "f") return Status::Error("still in recovery after replay");
  PGRT_RETURN_IF_ERROR(SetSuperuserPassword(*conn, c), "POSTGRES_USER");
  // What pgBackRest wrote into postgresql.auto.conf (and any older recovery setting there).
  auto present = conn->Exec(
      "SELECT DISTINCT name FROM pg_file_settings WHERE sourcefile LIKE '%/postgresql.auto.conf'"
      " AND (name = 'restore_command' OR name LIKE 'recovery\\_target%')");
  if (!present.ok()) return present.status().Wrap("reset recovery settings");
  // ALTER SYSTEM refuses to run in a transaction block: one statement each.
  for (int i = 0; i < present->rows(); ++i) {
    auto name = conn->QuoteIdent(present->Get(i, 0));
    if (!name.ok()) return name.status();
    PGRT_RETURN_IF_ERROR(conn->Exec("ALTER SYSTEM RESET " + *name), "reset recovery settings");
  }
  return Status::Ok();
}

std::string ReadOrEmpty(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : std::string();  // a missing log only costs the error its detail
}

// postgres's log of the replay goes to pgrt's own stderr afterwards, in one piece.
void Relay(const std::string& log) {
  size_t off = 0;
  while (off < log.size()) {
    ssize_t n = ::write(2, log.data() + off, log.size() - off);
    if (n <= 0) break;  // stderr gone: nothing better to do with a log
    off += static_cast<size_t>(n);
  }
}

}  // namespace

Task<Status> ReplayAndPromote(const TaskContext& tc, const NodeContext& ctx,
                              const std::string& datadir, const std::string& private_dir) {
  const Config& c = ctx.config;
  PGRT_CO_RETURN_IF_ERROR(
      WriteOwnedFile(ctx, JoinPath(private_dir, "pg_hba.conf"), "local all all trust\n", 0600),
      "replay");
  const std::string log_path = JoinPath(private_dir, "replay.log");
  UniqueFd log_fd(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!log_fd) co_return ErrnoStatus("open " + log_path);
  SpawnSpec spec = PostgresSpawnSpec(ctx, datadir, ServerArgs(c, datadir, private_dir));
  AddArchiveEnvironment(c, spec.env);  // restore_command and archive_command run pgBackRest
  spec.name = "postgres (replay)";
  spec.stdout_fd = log_fd.get();
  spec.stderr_fd = log_fd.get();
  auto child = LoopChild::Spawn(tc.exits, spec);
  if (!child.ok()) co_return child.status();
  log_fd.reset();
  LoopChild& server = *child;

  spdlog::info("replaying WAL from the repository (pid {})", server.pid());
  std::function<bool()> ready = [&] {
    return !server.running() || PostmasterStatus(datadir, server.pid()) == "ready";
  };
  Status st = co_await PollUntil(tc, std::move(ready), kReplayLimit, Millis(2), "replay");
  if (st.ok() && !server.running()) {
    std::string log = ReadOrEmpty(log_path);
    Relay(log);
    co_return Status::Error("postgres " + DescribeWaitStatus(*server.child().exit_status()) + ": " +
                            Fatals(log));
  }
  // Synchronous libpq on the private socket: off the loop's thread, with copies.
  std::function<Status()> finish = [c, private_dir] {
    return FinishOnPromotedServer(c, private_dir);
  };
  if (st.ok())
    st = co_await OffThread(tc, std::move(finish), Millis(0), "finish on the promoted server");
  if (st.ok()) st = server.child().Signal(SIGINT);
  if (st.ok()) {
    auto ws = co_await WaitExit(tc, server, kStopLimit);
    if (!ws.ok())
      st = ws.status().Wrap("stop");
    else if (!ExitedCleanly(*ws))
      st = Status::Error("stop: postgres " + DescribeWaitStatus(*ws));
  }
  Relay(ReadOrEmpty(log_path));
  co_return st;  // on error the LoopChild's destructor kills and reaps what is left
}

}  // namespace pgrt
