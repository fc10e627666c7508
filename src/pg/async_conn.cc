#include "pg/async_conn.h"

#include <fmt/format.h>

#include "pg/libpq_args.h"

namespace pgrt {

AsyncPgConn::AsyncPgConn(EventLoop& loop, ConnParams params, Reuse reuse)
    : loop_(loop), params_(std::move(params)), reuse_(reuse) {}

AsyncPgConn::~AsyncPgConn() {
  *alive_ = false;
  queue_.clear();
  Close();
}

void AsyncPgConn::Query(std::string sql, Millis deadline, Done done) {
  Enqueue({[sql = std::move(sql)](PgConn&) -> Result<std::string> { return sql; }, std::nullopt,
           loop_.clock().Now() + deadline, std::move(done)});
}

void AsyncPgConn::QueryParams(std::string sql, std::vector<std::optional<std::string>> params,
                              Millis deadline, Done done) {
  Enqueue({[sql = std::move(sql)](PgConn&) -> Result<std::string> { return sql; },
           std::move(params), loop_.clock().Now() + deadline, std::move(done)});
}

void AsyncPgConn::QueryBuilt(SqlBuilder build, Millis deadline, Done done) {
  Enqueue({std::move(build), std::nullopt, loop_.clock().Now() + deadline, std::move(done)});
}

void AsyncPgConn::QueryPrepared(std::vector<std::string> statements, Millis deadline, Done done) {
  Request r{nullptr, std::nullopt, loop_.clock().Now() + deadline, std::move(done)};
  r.prepared = std::move(statements);
  Enqueue(std::move(r));
}

void AsyncPgConn::Enqueue(Request r) {
  queue_.push_back(std::move(r));
  if (queue_.size() == 1) Pump();
}

void AsyncPgConn::Pump() {
  while (!queue_.empty()) {
    if (loop_.clock().Now() >= queue_.front().deadline) {
      std::weak_ptr<bool> alive = alive_;
      Finish(Status::DeadlineExceeded("query: no answer in time"));
      if (alive.expired()) return;
      continue;
    }
    switch (state_) {
      case State::kClosed:
        return StartConnect();
      case State::kIdle:
        return Send();
      case State::kConnecting:
      case State::kBusy:
        return;  // the request in flight pumps again when it ends
    }
  }
  if (reuse_ == Reuse::kFresh) Close();
}

void AsyncPgConn::StartConnect() {
  KeywordArrays kw(params_);
  PGconn* raw = PQconnectStartParams(kw.keys.data(), kw.values.data(), 0);
  if (raw == nullptr) return Finish(Status::Unavailable("connect: out of memory"));
  conn_.emplace(PgConn::Adopt(raw));
  if (PQstatus(raw) == CONNECTION_BAD)
    return Finish(Status::Unavailable("connect: " + TrimmedError(PQerrorMessage(raw))));
  state_ = State::kConnecting;
  ArmDeadline();
  // libpq's first step after PQconnectStartParams is to wait for the socket to be writable.
  Watch(EventLoop::kWritable);
}

void AsyncPgConn::Watch(int interest) {
  int fd = PQsocket(conn_->raw());
  if (fd != watched_fd_) {  // libpq may move to another socket (another address)
    if (watched_fd_ >= 0) loop_.Unwatch(watched_fd_);
    watched_fd_ = -1;
    if (fd < 0) return;
    Status st = loop_.WatchIo(fd, interest, [this](int) {
      if (state_ == State::kConnecting)
        ContinueConnect();
      else
        OnReadable();
    });
    if (!st.ok()) return Finish(st.Wrap("connect"));
    watched_fd_ = fd;
    return;
  }
  loop_.SetInterest(fd, interest).IgnoreError();  // watched_fd_ is watched: cannot fail
}

void AsyncPgConn::ContinueConnect() {
  switch (PQconnectPoll(conn_->raw())) {
    case PGRES_POLLING_READING:
      return Watch(EventLoop::kReadable);
    case PGRES_POLLING_WRITING:
      return Watch(EventLoop::kWritable);
    case PGRES_POLLING_OK:
      if (PQsetnonblocking(conn_->raw(), 1) != 0)
        return Finish(Status::Unavailable("connect: cannot make the connection non-blocking"));
      state_ = State::kIdle;
      return Send();
    default:
      return Finish(Status::Unavailable("connect: " + TrimmedError(PQerrorMessage(conn_->raw()))));
  }
}

namespace {

// The same text gets the same name on every connection; 64 bits make a collision between
// pgrt's few statements a non-event.
std::string StatementName(const std::string& sql) {
  return fmt::format("pgrt_{:016x}", std::hash<std::string>{}(sql));
}

}  // namespace

int AsyncPgConn::SendPipeline(const std::vector<std::string>& statements) {
  PGconn* c = conn_->raw();
  if (PQenterPipelineMode(c) == 0) return 0;
  pipeline_.clear();
  std::set<std::string> preparing;
  for (const std::string& sql : statements) {
    std::string name = StatementName(sql);
    if (!prepared_.contains(name) && preparing.insert(name).second) {
      if (PQsendPrepare(c, name.c_str(), sql.c_str(), 0, nullptr) == 0) return 0;
      pipeline_.push_back(name);
    }
    if (PQsendQueryPrepared(c, name.c_str(), 0, nullptr, nullptr, nullptr, 0) == 0) return 0;
    pipeline_.push_back("");
  }
  return PQpipelineSync(c);
}

void AsyncPgConn::Send() {
  Request& r = queue_.front();
  PGconn* c = conn_->raw();
  int sent;
  if (!r.prepared.empty()) {
    sent = SendPipeline(r.prepared);
  } else if (auto sql = r.build(*conn_); !sql.ok()) {
    return Finish(sql.status());
  } else if (r.params) {
    std::vector<const char*> values;
    for (const auto& p : *r.params) values.push_back(p ? p->c_str() : nullptr);
    sent = PQsendQueryParams(c, sql->c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0);
  } else {
    sent = PQsendQuery(c, sql->c_str());
  }
  if (sent == 0) return Finish(Status::Unavailable("query: " + TrimmedError(PQerrorMessage(c))));
  state_ = State::kBusy;
  results_.clear();
  error_.reset();
  ArmDeadline();
  // A large query may not fit the socket buffer: wait for writability until it is out.
  int flushed = PQflush(c);
  if (flushed < 0) return Finish(Status::Unavailable("query: " + TrimmedError(PQerrorMessage(c))));
  Watch(flushed == 1 ? EventLoop::kReadable | EventLoop::kWritable : EventLoop::kReadable);
}

void AsyncPgConn::OnReadable() {
  PGconn* c = conn_->raw();
  int flushed = PQflush(c);
  if (flushed < 0) return Finish(Status::Unavailable("query: " + TrimmedError(PQerrorMessage(c))));
  if (flushed == 0) Watch(EventLoop::kReadable);
  if (PQconsumeInput(c) == 0)
    return Finish(Status::Unavailable("query: " + TrimmedError(PQerrorMessage(c))));
  while (PQisBusy(c) == 0) {
    if (!TakeResult(PQgetResult(c))) {  // the whole answer is in
      if (PQpipelineStatus(c) != PQ_PIPELINE_OFF && PQexitPipelineMode(c) == 0)
        return Finish(Status::Unavailable("query: " + TrimmedError(PQerrorMessage(c))));
      if (error_) return Finish(*error_);
      return Finish(std::move(results_));
    }
  }
}

bool AsyncPgConn::TakeResult(PGresult* raw) {
  const bool pipelined = PQpipelineStatus(conn_->raw()) != PQ_PIPELINE_OFF;
  if (raw == nullptr) {
    // In a pipeline, the end of one command's answer; the sync result ends the whole.
    if (!pipelined) return false;
    if (!pipeline_.empty()) pipeline_.pop_front();
    return true;
  }
  PgResult r(raw);
  ExecStatusType st = PQresultStatus(raw);
  if (st == PGRES_PIPELINE_SYNC) return false;
  const bool prepare = pipelined && !pipeline_.empty() && !pipeline_.front().empty();
  if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY) {
    if (prepare)
      prepared_.insert(pipeline_.front());
    else
      results_.push_back(std::move(r));
  } else if (!error_) {
    // After a failure postgres skips the rest of the pipeline (PIPELINE_ABORTED): the
    // first error is the one worth reporting.
    error_ = st == PGRES_PIPELINE_ABORTED ? Status::Unavailable("query: pipeline aborted")
                                          : ResultStatus(raw);
  }
  return true;
}

void AsyncPgConn::ArmDeadline() {
  if (deadline_timer_) loop_.CancelTimer(deadline_timer_);
  auto left = std::chrono::ceil<Millis>(queue_.front().deadline - loop_.clock().Now());
  deadline_timer_ = loop_.AddTimer(left < Millis(0) ? Millis(0) : left, [this] {
    deadline_timer_ = 0;
    // Nothing to cancel on a stopped server: the connection is closed instead.
    Finish(Status::DeadlineExceeded(state_ == State::kConnecting ? "connect: no answer in time"
                                                                 : "query: no answer in time"));
  });
}

void AsyncPgConn::Finish(Result<Results> result) {
  if (deadline_timer_) loop_.CancelTimer(deadline_timer_);
  deadline_timer_ = 0;
  // A failed request leaves the connection in an unknown state: the next one starts over.
  if (!result.ok() || reuse_ == Reuse::kFresh) Close();
  if (state_ == State::kBusy) state_ = State::kIdle;
  if (queue_.empty()) return;
  Done done = std::move(queue_.front().done);
  queue_.pop_front();
  std::weak_ptr<bool> alive = alive_;
  done(std::move(result));
  if (alive.expired()) return;  // the callback destroyed this connection
  Pump();
}

void AsyncPgConn::Reset() {
  std::deque<Request> failed;
  failed.swap(queue_);
  Close();
  std::weak_ptr<bool> alive = alive_;
  for (Request& r : failed) {
    r.done(Status::Unavailable("query: connection reset"));
    if (alive.expired()) return;
  }
}

void AsyncPgConn::Close() {
  if (deadline_timer_) loop_.CancelTimer(deadline_timer_);
  deadline_timer_ = 0;
  if (watched_fd_ >= 0) loop_.Unwatch(watched_fd_);
  watched_fd_ = -1;
  conn_.reset();  // PQfinish: a non-blocking connection never waits for the server
  results_.clear();
  error_.reset();
  prepared_.clear();
  pipeline_.clear();
  state_ = State::kClosed;
}

void QueryOnce(EventLoop& loop, ConnParams params, std::string sql, Millis deadline,
               AsyncPgConn::Done done) {
  auto conn = std::make_shared<AsyncPgConn>(loop, std::move(params), AsyncPgConn::Reuse::kFresh);
  // The callback holds the only reference; it is released on the loop after `done` ran,
  // never inside the connection's own call stack.
  conn->Query(std::move(sql), deadline,
              [&loop, conn, done = std::move(done)](Result<AsyncPgConn::Results> r) mutable {
                done(std::move(r));
                loop.Post([c = std::move(conn)] {});
              });
}

}  // namespace pgrt
