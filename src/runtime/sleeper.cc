#include "runtime/sleeper.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>

#include "pgdata/settings.h"
#include "process/resident_memory.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

// A scheduled backup or dump wakes the node this long before it is due.
constexpr Millis kWakeBeforeSchedule{10000};

// PgBouncer's door probes whether PgBouncer listens: often at first (it starts in a few
// milliseconds), then seldom (a PgBouncer that cannot start is retried by its supervisor).
constexpr Millis kPoolerProbeFast{2};
constexpr Millis kPoolerProbeSlow{250};
constexpr int kPoolerFastProbes = 500;

// A port no one listens on now, on 127.0.0.1 (the kernel's pick). `fd` keeps it bound, so
// a second pick while it is held is another port.
Result<int> FreeLoopbackPort(UniqueFd& fd) {
  fd.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus("private port: socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return ErrnoStatus("private port: bind");
  socklen_t len = sizeof a;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return ErrnoStatus("private port: getsockname");
  return static_cast<int>(ntohs(a.sin_port));
}

// Whether something accepts connections at `addr` now. A non-blocking connect to loopback
// or a Unix socket is decided at once; one still in progress counts as "not yet".
bool Accepts(const sockaddr* addr, socklen_t len) {
  UniqueFd fd(::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  if (::connect(fd.get(), addr, len) == 0) return true;
  if (errno == EAGAIN) return true;  // a Unix socket that listens, its backlog full
  if (errno != EINPROGRESS) return false;
  pollfd p{fd.get(), POLLOUT, 0};
  if (::poll(&p, 1, 0) != 1) return false;
  int err = 0;
  socklen_t elen = sizeof err;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &elen);
  return err == 0;
}

// PgBouncer listens on both of its private addresses (the door uses either).
bool PoolerListens(int port, const std::string& unix_path) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(port));
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, unix_path.data(), std::min(unix_path.size(), sizeof un.sun_path - 1));
  return Accepts(reinterpret_cast<sockaddr*>(&un), sizeof un) &&
         Accepts(reinterpret_cast<sockaddr*>(&in), sizeof in);
}

double Seconds(Millis m) { return static_cast<double>(m.count()) / 1000.0; }

// How often direct sessions are counted while postgres runs: a quarter of the idle timeout,
// within bounds (a sleeping node counts nothing).
Millis CountInterval(int idle_timeout_seconds) {
  return std::clamp(Millis(idle_timeout_seconds * 250LL), Millis(250), Millis(5000));
}

// A relay that found no postgres: the door opens again after this if postgres still runs
// (the crash that caused it is noticed sooner, and then the door waits for readiness).
constexpr Millis kRecheckGone{250};
// Before the last count of a sleep: connections postgres accepted just before the door took
// the port back have time to show in pg_stat_activity.
constexpr Millis kSettleBeforeCount{50};

}  // namespace

std::string PrivateSocketDir(const Config& config) { return config.socket_dir + "/pgrt-private"; }

Result<HandoffPlan> PlanClientHandoff(const Config& config, uid_t postgres_uid) {
  if (!config.idle_enabled()) return Status::FailedPrecondition("PGRT_IDLE_TIMEOUT is off");
  return PlanHandoff({config.listen_addresses}, config.port, postgres_uid, kDoorBacklog);
}

Result<Config> PostgresFacingConfig(const Config& config, bool handoff) {
  if (!config.idle_enabled()) return config;
  UniqueFd postgres_fd, pooler_fd;
  Config c = config;
  if (handoff) {
    c.listen_addresses = config.listen_addresses + "," + kHandoffRelayTarget;
    c.socket_dir = PrivateSocketDir(config);
  } else {
    auto port = FreeLoopbackPort(postgres_fd);
    if (!port.ok()) return port.status();
    c.port = *port;
    c.listen_addresses = "127.0.0.1";  // postgres's, and PgBouncer's listen_addr
  }
  if (config.pgbouncer_enabled) {
    auto pooler_port = FreeLoopbackPort(pooler_fd);
    if (!pooler_port.ok()) return pooler_port.status().Wrap("PgBouncer");
    c.pgbouncer_port = *pooler_port;
  }
  return c;
}

Sleeper::Sleeper(EventLoop& loop, const Config& config, const Config& facing, Node& node,
                 NodeState& state, const BackupManager& backups, Pooler* pooler,
                 HandoffPlan* handoff)
    : loop_(loop),
      config_(config),
      node_(node),
      state_(state),
      backups_(backups),
      pooler_(pooler),
      pooler_port_(facing.pgbouncer_port),
      pooler_unix_path_(facing.socket_dir + "/.s.PGSQL." + std::to_string(facing.pgbouncer_port)) {
  auto door = [&](int public_port, int private_port, const char* what) {
    DoorOptions o;
    o.listen_addresses = {config.listen_addresses};
    o.port = public_port;
    o.unix_path = config.socket_dir + "/.s.PGSQL." + std::to_string(public_port);
    o.backend_port = private_port;
    o.backend_unix_path = facing.socket_dir + "/.s.PGSQL." + std::to_string(private_port);
    o.replication_networks = config.replication_allowed_networks;
    o.wake_timeout = Millis(config.wake_timeout_seconds * 1000LL);
    ClientDoor::Hooks hooks;
    hooks.wake = [this, what] { WakeFor(std::string("a client connected") + what); };
    hooks.sessions = [this](size_t) { OnSessions(); };
    hooks.gone = [this] { OnGone(); };
    std::vector<UniqueFd> group;
    if (handoff != nullptr && public_port == config.port) {
      group = std::move(handoff->listeners);
      o.backend_host = kHandoffRelayTarget;
    }
    auto d = std::make_unique<ClientDoor>(loop, std::move(o), std::move(hooks), std::move(group));
    d->SetWakeProblem([this] { return state_.message(); });
    return d;
  };
  door_ = door(config.port, facing.port, "");
  if (handoff != nullptr) {
    ConnParams params = node.context().LocalConn(facing.db);
    params["application_name"] = "pgrt-sleep";
    direct_ = std::make_unique<DirectSessions>(
        loop, std::move(params), CountInterval(config.idle_timeout_seconds),
        [this] { return door_->RelayPorts(); }, [this](size_t) { OnSessions(); });
  }
  if (pooler_ != nullptr)
    pooler_door_ = door(config.pgbouncer_port, facing.pgbouncer_port, " to PgBouncer");
  sleep_.idle_timeout_seconds = config.idle_timeout_seconds;
  sleep_.handoff = direct_ != nullptr;
  Publish();
}

Sleeper::~Sleeper() {
  if (gone_timer_) loop_.CancelTimer(gone_timer_);
  if (confirm_timer_) loop_.CancelTimer(confirm_timer_);
  if (idle_timer_) loop_.CancelTimer(idle_timer_);
  if (schedule_timer_) loop_.CancelTimer(schedule_timer_);
  if (pooler_probe_) loop_.CancelTimer(pooler_probe_);
}

Status Sleeper::Listen() {
  PGRT_RETURN_IF_ERROR(door_->Listen(), "client door");
  if (pooler_door_) PGRT_RETURN_IF_ERROR(pooler_door_->Listen(), "PgBouncer's door");
  return Status::Ok();
}

size_t Sleeper::Sessions() const {
  return door_->sessions() + (pooler_door_ ? pooler_door_->sessions() : 0) +
         (direct_ ? direct_->count() : 0);
}

size_t Sleeper::Held() const {
  return door_->stats().held + (pooler_door_ ? pooler_door_->stats().held : 0);
}

void Sleeper::OnReady() {
  std::optional<Millis> waited = door_->Open();
  if (sleep_.asleep || !wake_why_.empty()) {
    if (sleep_.asleep_since)
      sleep_.asleep_seconds_total += SecondsBetween(asleep_steady_, loop_.clock().Now());
    sleep_.asleep = false;
    sleep_.asleep_since.reset();
    if (pooler_door_ && !pooler_door_->open())
      pending_wake_ = waited;  // recorded once PgBouncer's door opens
    else
      FinishWake(waited);
  }
  if (schedule_timer_) loop_.CancelTimer(schedule_timer_);
  schedule_timer_ = 0;
  ReadyPooler();
  if (direct_) direct_->Start();
  if (Sessions() == 0) ArmIdle();
  Publish();
}

void Sleeper::OnPostgresExit() {
  // Until postgres is ready again, new clients wait at the door (with the handoff they are
  // steered to it; without, they would be relayed to nobody).
  door_->Hold();
  if (direct_) direct_->Stop();
  Publish();
}

void Sleeper::OnGone() {
  if (gone_timer_) return;
  gone_timer_ = loop_.AddTimer(kRecheckGone, [this] {
    gone_timer_ = 0;
    // A crash is noticed by now (the door stays shut until postgres is ready again); a
    // postgres that still runs takes the waiting clients.
    if (node_.mode() == Mode::kRunning && state_.postgres_pid() != 0 && !confirming_ &&
        !door_->open())
      door_->Open();
  });
}

void Sleeper::FinishWake(std::optional<Millis> waited) {
  WakeRecord w{loop_.clock().WallNow(), waited ? Seconds(*waited) : 0.0,
               wake_why_.empty() ? "woken" : wake_why_};
  sleep_.RecordWake(w);
  spdlog::info("sleep: postgres is awake ({}){}", w.why,
               waited ? fmt::format(", the first client waited {} ms", waited->count()) : "");
  wake_why_.clear();
}

void Sleeper::ResumePooler() {
  if (pooler_ == nullptr) return;
  if (Status st = pooler_->Resume(); !st.ok()) {
    // The supervisor retries it; its door opens when it listens.
    spdlog::error("sleep: {}", st.message());
    state_.SetMessage(st.message());
  }
}

void Sleeper::ReadyPooler() {
  if (!pooler_door_ || pooler_door_->open()) return;
  ResumePooler();  // started with the wake already, unless the wake came otherwise
  pooler_probes_ = 0;
  ProbePooler();
}

void Sleeper::ProbePooler() {
  if (pooler_probe_) return;
  // The first look at once: PgBouncer started with postgres and usually listens by now.
  const Millis delay = pooler_probes_ == 0                  ? Millis(0)
                       : pooler_probes_ < kPoolerFastProbes ? kPoolerProbeFast
                                                            : kPoolerProbeSlow;
  pooler_probe_ = loop_.AddTimer(delay, [this] {
    pooler_probe_ = 0;
    ++pooler_probes_;
    // postgres went to sleep or down meanwhile: the next OnReady probes again.
    if (!door_->open() || pooler_door_->open()) return;
    if (!PoolerListens(pooler_port_, pooler_unix_path_)) return ProbePooler();
    std::optional<Millis> waited = pooler_door_->Open();
    if (pending_wake_) {
      std::optional<Millis> longest = *pending_wake_;
      if (waited && (!longest || *waited > *longest)) longest = waited;
      pending_wake_.reset();
      FinishWake(longest);
    }
    Publish();
  });
}

void Sleeper::OnSessions() {
  const size_t sessions = Sessions();
  if (sessions > 0 && idle_timer_) {
    loop_.CancelTimer(idle_timer_);
    idle_timer_ = 0;
  }
  // Armed once: a count that finds no session again must not push the sleep further away.
  if (sessions == 0 && door_->open() && !idle_timer_ && !confirming_) ArmIdle();
  Publish();
}

void Sleeper::ArmIdle() {
  if (idle_timer_) loop_.CancelTimer(idle_timer_);
  idle_timer_ = loop_.AddTimer(Millis(config_.idle_timeout_seconds * 1000LL), [this] {
    idle_timer_ = 0;
    OnIdle();
  });
}

std::string Sleeper::Busy() const {
  if (node_.mode() != Mode::kRunning) return std::string("postgres is ") + ToString(node_.mode());
  if (node_.applied().replica()) return "a replica stays awake for its primary";
  if (!state_.observation().standbys.empty()) return "standbys stream from this primary";
  BackupSnapshot b = backups_.Snapshot();
  if (b.backup_running) return "a backup runs";
  if (b.dump_running) return "a dump runs";
  return "";
}

void Sleeper::OnIdle() {
  if (Sessions() > 0) return;  // a session began meanwhile: its end re-arms
  if (std::string busy = Busy(); !busy.empty()) {
    spdlog::debug("sleep: idle, but stays awake: {}", busy);
    return ArmIdle();
  }
  if (direct_) return ConfirmIdle();
  Hibernate("idle: no client session for " + std::to_string(config_.idle_timeout_seconds) + " s",
            [](Mode) {});
}

void Sleeper::ConfirmIdle() {
  // New clients wait at the door from now on: none can reach postgres while it is counted.
  confirming_ = true;
  door_->Hold();
  confirm_timer_ = loop_.AddTimer(kSettleBeforeCount, [this] {
    confirm_timer_ = 0;
    direct_->CountNow([this](std::optional<size_t> n) {
      confirming_ = false;
      if (node_.mode() != Mode::kRunning) return;  // it stopped meanwhile: no sleep to take
      if (!n || Sessions() > 0 || !Busy().empty()) {
        // A session after all (or postgres could not be asked): clients go straight to it
        // again, and the idle timer starts over once no session is left.
        door_->Open();
        return OnSessions();
      }
      Hibernate(
          "idle: no client session for " + std::to_string(config_.idle_timeout_seconds) + " s",
          [](Mode) {});
    });
  });
}

void Sleeper::Hibernate(std::string why, std::function<void(Mode)> done) {
  // New clients wait at the door from now on; the stop ends the sessions still open (the
  // API may ask while clients are connected).
  door_->Hold();
  if (pooler_door_) pooler_door_->Hold();
  if (pooler_probe_) loop_.CancelTimer(pooler_probe_);
  pooler_probe_ = 0;
  if (idle_timer_) loop_.CancelTimer(idle_timer_);
  idle_timer_ = 0;
  spdlog::info("sleep: {}", why);
  if (pending_wake_) FinishWake(*pending_wake_);  // PgBouncer never came up in this wake
  pending_wake_.reset();
  // PgBouncer stops first, so its server connections end and it makes no new ones.
  if (pooler_ != nullptr)
    return pooler_->Sleep([this, why = std::move(why), done = std::move(done)]() mutable {
      HibernatePostgres(std::move(why), std::move(done));
    });
  HibernatePostgres(std::move(why), std::move(done));
}

void Sleeper::HibernatePostgres(std::string why, std::function<void(Mode)> done) {
  node_.Hibernate(std::move(why), [this, done = std::move(done)](Mode reached) {
    if (reached == Mode::kHibernated) {
      sleep_.asleep = true;
      ++sleep_.sleeps;
      sleep_.asleep_since = loop_.clock().WallNow();
      asleep_steady_ = loop_.clock().Now();
      ArmScheduledWake();
      // A client that arrived while postgres stopped wakes it again at once.
      if (Held() > 0) {
        WakeFor("a client connected");
      } else {
        // Asleep for a while, most likely: the code that ran while postgres was up need not
        // stay resident (it comes back from the page cache when used again). About a
        // millisecond of work, no waiting.
        auto released = ReleaseIdleMemory();
        if (!released.ok()) spdlog::debug("sleep: {}", released.status().message());
      }
    } else if (reached == Mode::kRunning) {
      OnReady();
    }
    Publish();
    done(reached);
  });
}

void Sleeper::Wake(std::string why, std::function<void(Mode)> done) {
  const Mode m = node_.mode();
  if (m == Mode::kHibernated || m == Mode::kHibernating) {
    if (wake_why_.empty()) wake_why_ = why;
    // PgBouncer starts alongside postgres, so its start costs the wake nothing; its door
    // stays shut until postgres is ready, so it connects to no postgres before then.
    ResumePooler();
  }
  node_.Wake(std::move(why), std::move(done));
}

void Sleeper::WakeFor(const std::string& why) {
  const Mode m = node_.mode();
  if (m != Mode::kHibernated && m != Mode::kHibernating) return;  // awake or waking already
  if (!wake_why_.empty()) return;
  Wake(why, [this](Mode reached) {
    if (reached == Mode::kHibernated || reached == Mode::kFailed || reached == Mode::kStopped) {
      sleep_.last_error = "postgres did not wake: " + std::string(ToString(reached)) +
                          (state_.message().empty() ? "" : ": " + state_.message());
      door_->Refuse(sleep_.last_error);
      if (pooler_door_) pooler_door_->Refuse(sleep_.last_error);
      if (pooler_ != nullptr) pooler_->Sleep([] {});  // no PgBouncer without postgres
      wake_why_.clear();
      Publish();
    }
  });
}

void Sleeper::ArmScheduledWake() {
  BackupSnapshot b = backups_.Snapshot();
  std::optional<SystemTime> next;
  for (const auto& t : {b.next_backup, b.next_dump})
    if (t && (!next || *t < *next)) next = t;
  if (!next) return;
  auto in =
      std::chrono::duration_cast<Millis>(*next - loop_.clock().WallNow()) - kWakeBeforeSchedule;
  if (in < Millis(0)) in = Millis(0);
  if (schedule_timer_) loop_.CancelTimer(schedule_timer_);
  schedule_timer_ = loop_.AddTimer(in, [this] {
    schedule_timer_ = 0;
    WakeFor("a scheduled backup or dump is due");
  });
}

void Sleeper::Publish() {
  DoorStats d = door_->stats();
  if (pooler_door_) {
    DoorStats p = pooler_door_->stats();
    d.held += p.held;
    d.accepted += p.accepted;
    d.refused += p.refused;
  }
  sleep_.sessions = Sessions();
  sleep_.held = d.held;
  sleep_.accepted = d.accepted;
  sleep_.refused = d.refused;
  state_.SetSleep(sleep_);
}

}  // namespace pgrt
