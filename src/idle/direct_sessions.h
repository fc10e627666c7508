// DirectSessions: the client sessions connected straight to postgres (the handoff,
// idle/reuseport.h), which the door never sees. They are counted from pg_stat_activity on
// pgrt's own connection, asynchronously on the loop, every `interval` while postgres is up:
// client backends over TCP (the Unix socket carries pgrt's own sessions, PgBouncer's and the
// door's relays, counted elsewhere or not at all), whatever their state (idle in a
// transaction counts), except pgrt's own (application_name pgrt…) and the door's relays
// (counted by the door). Walsenders and background workers are no client backends.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "pg/async_conn.h"
#include "process/event_loop.h"
#include "util/clock.h"

namespace pgrt {

class DirectSessions {
 public:
  // `relayed_ports`: the local ports of the door's relays to postgres now (excluded).
  // `changed`: the count changed.
  DirectSessions(EventLoop& loop, ConnParams params, Millis interval,
                 std::function<std::vector<int>()> relayed_ports,
                 std::function<void(size_t)> changed);
  ~DirectSessions();
  DirectSessions(const DirectSessions&) = delete;
  DirectSessions& operator=(const DirectSessions&) = delete;

  // postgres is ready: counts now and every interval.
  void Start();
  // postgres stops: no more counting, and no session is left.
  void Stop();
  // Counts now; `done` gets the count, or nullopt when postgres could not be asked.
  void CountNow(std::function<void(std::optional<size_t>)> done);
  size_t count() const { return count_; }

 private:
  void Tick();
  void Set(size_t n);

  EventLoop& loop_;
  AsyncPgConn conn_;
  Millis interval_;
  std::function<std::vector<int>()> relayed_ports_;
  std::function<void(size_t)> changed_;
  bool running_ = false;
  EventLoop::TimerId timer_ = 0;
  size_t count_ = 0;
  uint64_t generation_ = 0;  // a count asked before a Stop is not applied after it
};

}  // namespace pgrt
