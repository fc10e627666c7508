// AsyncPgConn: pgrt's own round trips to postgres, driven by the event loop. Connecting
// (PQconnectStartParams + PQconnectPoll), sending and reading are non-blocking, and every
// request has a deadline kept on the client side: a stopped or wedged server enforces
// nothing, statement_timeout included. Requests queue and run one at a time, in order.
//
// Only for servers named by a socket directory or a numeric address: libpq resolves a
// host name synchronously while connecting.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pg/connection.h"
#include "process/event_loop.h"

namespace pgrt {

class AsyncPgConn {
 public:
  using Results = std::vector<PgResult>;  // one per statement
  using Done = std::function<void(Result<Results>)>;
  // Builds the SQL once connected, so literals and identifiers are quoted by libpq for
  // this connection (PQescapeLiteral and friends need one).
  using SqlBuilder = std::function<Result<std::string>(PgConn& conn)>;
  // kFresh: a new connection for every request, closed after it (the question "can a
  // client connect now?"); kKeep: one connection kept and reused, made again when broken.
  enum class Reuse { kKeep, kFresh };

  AsyncPgConn(EventLoop& loop, ConnParams params, Reuse reuse = Reuse::kKeep);
  ~AsyncPgConn();  // queued requests are dropped without their callbacks
  AsyncPgConn(const AsyncPgConn&) = delete;
  AsyncPgConn& operator=(const AsyncPgConn&) = delete;

  // One or more statements (simple protocol). `done` runs on the loop, exactly once
  // (unless this object is destroyed first), possibly before Query returns on an
  // immediate failure. Errors: kUnavailable (cannot connect, connection lost),
  // kDeadlineExceeded (no whole answer within `deadline` of the call), or the server's
  // error with its SQLSTATE's code.
  void Query(std::string sql, Millis deadline, Done done);
  // One statement with $1.. parameters sent out of band.
  void QueryParams(std::string sql, std::vector<std::optional<std::string>> params, Millis deadline,
                   Done done);
  void QueryBuilt(SqlBuilder build, Millis deadline, Done done);
  // Statements run often (a metrics scrape): each is prepared once per connection, under a
  // name derived from its text, and every call runs them all in one pipelined round trip
  // without parsing or planning them again (that was most of a scrape's cost in postgres).
  // One result per statement, in order; the first failure fails the call.
  void QueryPrepared(std::vector<std::string> statements, Millis deadline, Done done);

  // Drops the connection (postgres restarted, or the caller gives up); queued requests
  // fail with kUnavailable.
  void Reset();
  size_t queued() const { return queue_.size(); }

 private:
  struct Request {
    SqlBuilder build;
    std::optional<std::vector<std::optional<std::string>>> params;  // set: QueryParams
    SteadyTime deadline;
    Done done;
    std::vector<std::string> prepared = {};  // set: QueryPrepared
  };
  enum class State { kClosed, kConnecting, kIdle, kBusy };

  void Enqueue(Request r);
  void Pump();
  void StartConnect();
  void ContinueConnect();
  void Send();
  int SendPipeline(const std::vector<std::string>& statements);
  void OnReadable();
  // One result of the request in flight; false once its whole answer is in.
  bool TakeResult(PGresult* raw);
  void Watch(int interest);
  void ArmDeadline();
  void Finish(Result<Results> result);  // completes the front request
  void Close();

  EventLoop& loop_;
  ConnParams params_;
  Reuse reuse_;
  std::optional<PgConn> conn_;
  int watched_fd_ = -1;
  State state_ = State::kClosed;
  std::deque<Request> queue_;
  Results results_;
  std::optional<Status> error_;  // the first failed statement of the request in flight
  // Names prepared on this connection (forgotten with it), and for a pipeline in flight
  // the commands whose answers are still due: a prepare's name, or "" for an execution.
  std::set<std::string> prepared_;
  std::deque<std::string> pipeline_;
  EventLoop::TimerId deadline_timer_ = 0;
  // Cleared by the destructor: a callback that destroyed this object must not touch it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// One round trip on a fresh connection that owns itself until `done` has run.
void QueryOnce(EventLoop& loop, ConnParams params, std::string sql, Millis deadline,
               AsyncPgConn::Done done);

}  // namespace pgrt
