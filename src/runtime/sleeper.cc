#include "runtime/sleeper.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "util/unique_fd.h"

namespace pgrt {
namespace {

// A scheduled backup or dump wakes the node this long before it is due.
constexpr Millis kWakeBeforeSchedule{10000};

// A port no one listens on now, on 127.0.0.1 (the kernel's pick).
Result<int> FreeLoopbackPort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
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

double Seconds(Millis m) { return static_cast<double>(m.count()) / 1000.0; }

}  // namespace

Result<Config> PostgresFacingConfig(const Config& config) {
  if (!config.idle_enabled()) return config;
  auto port = FreeLoopbackPort();
  if (!port.ok()) return port.status();
  Config c = config;
  c.port = *port;
  c.listen_addresses = "127.0.0.1";
  return c;
}

Sleeper::Sleeper(EventLoop& loop, const Config& config, int private_port,
                 const std::string& socket_dir, Node& node, NodeState& state,
                 const BackupManager& backups)
    : loop_(loop), config_(config), node_(node), state_(state), backups_(backups) {
  DoorOptions o;
  o.listen_addresses = {config.listen_addresses};
  o.port = config.port;
  o.unix_path = socket_dir + "/.s.PGSQL." + std::to_string(config.port);
  o.backend_port = private_port;
  o.backend_unix_path = socket_dir + "/.s.PGSQL." + std::to_string(private_port);
  o.replication_networks = config.replication_allowed_networks;
  o.wake_timeout = Millis(config.wake_timeout_seconds * 1000LL);
  ClientDoor::Hooks hooks;
  hooks.wake = [this] { WakeFor("a client connected"); };
  hooks.sessions = [this](size_t n) { OnSessions(n); };
  door_ = std::make_unique<ClientDoor>(loop, std::move(o), std::move(hooks));
  door_->SetWakeProblem([this] { return state_.message(); });
  sleep_.idle_timeout_seconds = config.idle_timeout_seconds;
  Publish();
}

Sleeper::~Sleeper() {
  if (idle_timer_) loop_.CancelTimer(idle_timer_);
  if (schedule_timer_) loop_.CancelTimer(schedule_timer_);
}

Status Sleeper::Listen() { return door_->Listen(); }

void Sleeper::OnReady() {
  std::optional<Millis> waited = door_->Open();
  if (sleep_.asleep || !wake_why_.empty()) {
    if (sleep_.asleep_since)
      sleep_.asleep_seconds_total += SecondsBetween(asleep_steady_, loop_.clock().Now());
    sleep_.asleep = false;
    sleep_.asleep_since.reset();
    WakeRecord w{loop_.clock().WallNow(), waited ? Seconds(*waited) : 0.0,
                 wake_why_.empty() ? "woken" : wake_why_};
    sleep_.RecordWake(w);
    spdlog::info("sleep: postgres is awake ({}){}", w.why,
                 waited ? fmt::format(", the first client waited {} ms", waited->count()) : "");
    wake_why_.clear();
  }
  if (schedule_timer_) loop_.CancelTimer(schedule_timer_);
  schedule_timer_ = 0;
  if (door_->sessions() == 0) ArmIdle();
  Publish();
}

void Sleeper::OnSessions(size_t sessions) {
  if (sessions > 0 && idle_timer_) {
    loop_.CancelTimer(idle_timer_);
    idle_timer_ = 0;
  }
  if (sessions == 0 && door_->open()) ArmIdle();
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
  if (door_->sessions() > 0) return;  // a session began meanwhile: its end re-arms
  if (std::string busy = Busy(); !busy.empty()) {
    spdlog::debug("sleep: idle, but stays awake: {}", busy);
    return ArmIdle();
  }
  Hibernate("idle: no client session for " + std::to_string(config_.idle_timeout_seconds) + " s",
            [](Mode) {});
}

void Sleeper::Hibernate(std::string why, std::function<void(Mode)> done) {
  // New clients wait at the door from now on; the stop ends the sessions still open (the
  // API may ask while clients are connected).
  door_->Hold();
  if (idle_timer_) loop_.CancelTimer(idle_timer_);
  idle_timer_ = 0;
  spdlog::info("sleep: {}", why);
  node_.Hibernate(std::move(why), [this, done = std::move(done)](Mode reached) {
    if (reached == Mode::kHibernated) {
      sleep_.asleep = true;
      ++sleep_.sleeps;
      sleep_.asleep_since = loop_.clock().WallNow();
      asleep_steady_ = loop_.clock().Now();
      ArmScheduledWake();
      // A client that arrived while postgres stopped wakes it again at once.
      if (door_->stats().held > 0) WakeFor("a client connected");
    } else if (reached == Mode::kRunning) {
      OnReady();
    }
    Publish();
    done(reached);
  });
}

void Sleeper::Wake(std::string why, std::function<void(Mode)> done) {
  const Mode m = node_.mode();
  if (wake_why_.empty() && (m == Mode::kHibernated || m == Mode::kHibernating)) wake_why_ = why;
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
  sleep_.sessions = door_->sessions();
  sleep_.held = d.held;
  sleep_.accepted = d.accepted;
  sleep_.refused = d.refused;
  state_.SetSleep(sleep_);
}

}  // namespace pgrt
