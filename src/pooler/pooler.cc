#include "pooler/pooler.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include "pgdata/tls_copies.h"
#include "pooler/scram.h"
#include "util/fs.h"

namespace pgrt {
namespace {

constexpr const char* kService = "pgbouncer";
constexpr Millis kRetryAfterGiveUp{30000};
// Short: a container runtime allows ~10 s for the whole shutdown, and postgres comes after.
constexpr Millis kStopTimeout{3000};

Result<std::string> PgbouncerBinary() {
  for (const char* p : {"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"})
    if (PathExists(p)) return std::string(p);
  return Status::Error(
      "pgbouncer is not installed (looked in /usr/sbin, /usr/bin, /usr/local/bin)");
}

// PgBouncer needs a descriptor per client and per server connection and does not raise its
// own limit; children inherit pgrt's, so pgrt raises its soft limit (never above the hard).
void RaiseFileLimit(int max_client_conn) {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;  // keep the limit we have
  rlim_t want = static_cast<rlim_t>(max_client_conn) * 2 + 100;
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want) return;
  rlim_t target = rl.rlim_max == RLIM_INFINITY ? want : std::min(want, rl.rlim_max);
  if (target <= rl.rlim_cur) return;
  rl.rlim_cur = target;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0)
    spdlog::warn("pgbouncer: cannot raise the open-file limit to {}", static_cast<long>(target));
}

}  // namespace

Result<std::unique_ptr<Pooler>> Pooler::Create(const NodeContext& ctx, int public_port) {
  auto password = RandomHex(32);
  if (!password.ok()) return password.status().Wrap("pgbouncer console account");
  auto secret = ScramSecret(*password);
  if (!secret.ok()) return secret.status().Wrap("pgbouncer console account");
  const Config& c = ctx.config;
  ConnParams console = {{"host", c.socket_dir},     {"port", std::to_string(c.pgbouncer_port)},
                        {"user", kPoolerStatsUser}, {"password", *password},
                        {"dbname", "pgbouncer"},    {"connect_timeout", "2"},
                        {"sslmode", "disable"}};
  Config named = c;
  named.pgbouncer_port = public_port;
  return std::unique_ptr<Pooler>(
      new Pooler(ctx, PoolerPaths::From(named), *secret, std::move(console)));
}

Pooler::Pooler(const NodeContext& ctx, PoolerPaths paths, std::string stats_secret,
               ConnParams console)
    : ctx_(ctx),
      paths_(std::move(paths)),
      stats_secret_(std::move(stats_secret)),
      console_(std::move(console)) {}

Status Pooler::WriteFiles() {
  const Config& c = ctx_.config;
  PoolerFilesInput in{c, paths_, "", "", "", stats_secret_};
  if (!c.tls_cert_file.empty()) {
    // The copies the node made for postgres (node/prepare.cc), readable by the run-as account.
    in.tls_cert = TlsCertCopy(ctx_.layout);
    in.tls_key = TlsKeyCopy(ctx_.layout);
    if (!c.tls_ca_file.empty()) in.tls_ca = TlsCaCopy(ctx_.layout);
  }
  auto files = RenderPoolerFiles(in);
  if (!files.ok()) return files.status();
  PGRT_RETURN_IF_ERROR(MakeOwnedDirectory(ctx_, paths_.dir, 0700), "directory");
  PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx_, paths_.hba, files->hba), "HBA file");
  PGRT_RETURN_IF_ERROR(WriteOwnedFile(ctx_, paths_.auth_file, files->auth_file), "auth_file");
  return WriteOwnedFile(ctx_, paths_.ini, files->ini).Wrap("pgbouncer.ini");
}

ServiceSpec Pooler::Spec() const {
  ServiceSpec spec;
  spec.spawn.name = kService;
  spec.spawn.env = ctx_.child_env;
  spec.spawn.run_as = ctx_.run_as;
  spec.spawn.cwd = paths_.dir;
  spec.stop_signal = ctx_.config.pgbouncer_pool_mode == "session" ? SIGTERM : SIGINT;
  spec.stop_timeout = kStopTimeout;
  spec.max_restarts = ctx_.config.restart_max;
  spec.restart_window = Millis(ctx_.config.restart_window_seconds * 1000LL);
  const int max_clients = ctx_.config.pgbouncer_max_client_conn;
  spec.before_start = [max_clients](ServiceSpec::DoneCallback done) {
    RaiseFileLimit(max_clients);
    done(Status::Ok());
  };
  return spec;
}

Status Pooler::Start(EventLoop& loop, Supervisor& supervisor) {
  if (supervisor_ != nullptr || asleep_) return Status::Ok();
  auto binary = PgbouncerBinary();
  if (!binary.ok()) return binary.status().Wrap("start pgbouncer");
  PGRT_RETURN_IF_ERROR(WriteFiles(), "start pgbouncer");
  auto log = PgbouncerLog::Open(loop, STDERR_FILENO,
                                [this](std::string_view line) { errors_.CountLine(line); });
  if (!log.ok()) return log.status().Wrap("start pgbouncer");
  log_ = std::move(*log);
  loop_ = &loop;
  supervisor_ = &supervisor;
  ServiceSpec spec = Spec();
  spec.spawn.argv = {*binary, paths_.ini};
  spec.spawn.stderr_fd = log_->write_fd();
  ServiceEvents events;
  events.on_give_up = [this](const std::string& reason) {
    spdlog::error("{}; trying again in {} s", reason, kRetryAfterGiveUp.count() / 1000);
    loop_->AddTimer(kRetryAfterGiveUp, [this] {
      if (stopping_ || asleep_) return;
      Status st = supervisor_->Start(kService);
      if (!st.ok()) spdlog::error("{}", st.message());
    });
  };
  supervisor.Add(kService, std::move(spec), std::move(events));
  spdlog::info("pgbouncer: port {}, pool_mode {}, files in {}", ctx_.config.pgbouncer_port,
               ctx_.config.pgbouncer_pool_mode, paths_.dir);
  return supervisor.Start(kService);
}

void Pooler::Stop(bool immediate, std::function<void()> done) {
  stopping_ = true;
  if (supervisor_ == nullptr) {
    done();
    return;
  }
  supervisor_->Stop(kService, immediate ? SIGTERM : 0, std::move(done));
}

void Pooler::Sleep(std::function<void()> done) {
  if (stopping_) {
    done();
    return;
  }
  // Before its first start too: a start asked meanwhile waits for Resume.
  asleep_ = true;
  if (supervisor_ == nullptr) {
    done();
    return;
  }
  spdlog::info("pgbouncer: stops while postgres sleeps");
  supervisor_->Stop(kService, 0, std::move(done));
}

Status Pooler::Resume() {
  asleep_ = false;
  // Never started: the node's Start does it. Running: nothing to do (a stop for Sleep still
  // under way ends it, and the next Resume starts it again).
  if (stopping_ || supervisor_ == nullptr) return Status::Ok();
  return supervisor_->Start(kService).Wrap("start pgbouncer");
}

void Pooler::Reload() {
  if (supervisor_ == nullptr) return;  // not started yet: Start writes the files
  if (Status st = WriteFiles(); !st.ok()) {
    spdlog::error("reload pgbouncer: {}", st.message());
    return;
  }
  // Not running (between restarts): it reads the new files when it starts.
  supervisor_->Signal(kService, SIGHUP).IgnoreError();
}

}  // namespace pgrt
