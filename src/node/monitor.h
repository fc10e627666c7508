// Monitor: observes postgres from the event loop once a second and on demand, and keeps
// the result in NodeState, so the role checks, /__opr/status and /__opr/replication answer
// from memory at any request rate. Each observation opens a fresh connection with a
// deadline: a postmaster that no longer accepts clients (stopped, wedged) shows as
// unreachable within the deadline, even while old backends still answer.
// On a replica whose WAL receiver does not stream, it also tries the replication login to
// the primary now and then, off the loop: a refused password is a warning and the node's
// status message, not a silent retry.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pg/async_conn.h"
#include "pgdata/context.h"
#include "process/event_loop.h"
#include "state/node_state.h"

namespace pgrt {

class Monitor {
 public:
  Monitor(const NodeContext& ctx, NodeState& state, EventLoop& loop);
  ~Monitor();

  void Start();  // the periodic observation
  // One observation now (after readiness, promote, ...); `then` runs once it is in.
  void RefreshNow(std::function<void()> then = nullptr);
  // For the next `span`, observe every kQuickInterval while this is a replica whose WAL
  // receiver does not stream yet: a new replica shows as streaming within a tenth of a
  // second instead of a second, without a fresh connection ten times a second for ever.
  void Quicken(Millis span);

 private:
  void Observe(bool asked);
  // The observation's query; `fresh`: on a connection made for it.
  void Send(bool fresh);
  void Apply(Result<AsyncPgConn::Results> r);
  void CheckReplicationLogin(bool streaming);
  void OnLoginChecked(const std::string& error);

  const NodeContext& ctx_;
  NodeState& state_;
  EventLoop& loop_;
  // Kept between observations, made again every kFreshEvery-th one, for every asked one and
  // whenever postgres is another postmaster: a new connection costs each side a SCRAM key
  // derivation (≈ 4096 HMACs, most of an idle node's CPU when it was made every second).
  AsyncPgConn conn_;
  pid_t conn_postmaster_ = 0;
  int since_fresh_ = 0;
  bool in_flight_ = false;
  bool again_ = false;  // a refresh asked for while one was in flight
  std::vector<std::function<void()>> waiting_;
  EventLoop::TimerId timer_ = 0;
  SteadyTime quick_until_{};
  // The replication login check (off the loop: the primary may be a host name).
  bool login_check_out_ = false;
  int not_streaming_ticks_ = 0;
  SteadyTime next_login_check_{};
  bool login_refused_ = false;  // the status message says so
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The observation's statements and their parsing (unit-tested without a server).
const char* ObservationSql();
Result<Observation> ParseObservation(const std::vector<PgResult>& results);

}  // namespace pgrt
