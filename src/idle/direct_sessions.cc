#include "idle/direct_sessions.h"

#include <spdlog/spdlog.h>

#include <string>

namespace pgrt {
namespace {

// A count must not wait on a wedged postgres for long: the next one comes soon.
constexpr Millis kCountDeadline{2000};

std::string CountSql(const std::vector<int>& relayed_ports) {
  std::string sql =
      "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
      " AND pid <> pg_backend_pid() AND client_addr IS NOT NULL"
      " AND coalesce(application_name, '') NOT LIKE 'pgrt%'";
  if (!relayed_ports.empty()) {
    sql += " AND NOT (client_addr << '127.0.0.0/8' AND client_port IN (";
    for (size_t i = 0; i < relayed_ports.size(); ++i)
      sql += (i ? "," : "") + std::to_string(relayed_ports[i]);
    sql += "))";
  }
  return sql;
}

}  // namespace

DirectSessions::DirectSessions(EventLoop& loop, ConnParams params, Millis interval,
                               std::function<std::vector<int>()> relayed_ports,
                               std::function<void(size_t)> changed)
    : loop_(loop),
      conn_(loop, std::move(params)),
      interval_(interval),
      relayed_ports_(std::move(relayed_ports)),
      changed_(std::move(changed)) {}

DirectSessions::~DirectSessions() {
  if (timer_) loop_.CancelTimer(timer_);
}

void DirectSessions::Start() {
  if (running_) return;
  running_ = true;
  Tick();
}

void DirectSessions::Stop() {
  running_ = false;
  ++generation_;
  if (timer_) loop_.CancelTimer(timer_);
  timer_ = 0;
  conn_.Reset();  // postgres goes: its connection with it
  Set(0);
}

void DirectSessions::Tick() {
  timer_ = 0;
  CountNow([this](std::optional<size_t>) {
    if (running_ && !timer_) timer_ = loop_.AddTimer(interval_, [this] { Tick(); });
  });
}

void DirectSessions::CountNow(std::function<void(std::optional<size_t>)> done) {
  const uint64_t generation = generation_;
  conn_.Query(CountSql(relayed_ports_()), kCountDeadline,
              [this, generation, done = std::move(done)](Result<AsyncPgConn::Results> r) {
                if (generation != generation_) return done(std::nullopt);
                if (!r.ok() || r->empty() || r->front().rows() != 1) {
                  spdlog::debug("sleep: counting client sessions: {}",
                                r.ok() ? "no answer" : r.status().message());
                  return done(std::nullopt);
                }
                Set(static_cast<size_t>(std::stoull(r->front().Get(0, 0))));
                done(count_);
              });
}

void DirectSessions::Set(size_t n) {
  if (n == count_) return;
  count_ = n;
  if (changed_) changed_(n);
}

}  // namespace pgrt
