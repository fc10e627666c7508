// HttpServer: HTTP/1.0 and 1.1 on pgrt's event loop, with no thread per connection. A slow,
// idle or hostile client costs a file descriptor and a bounded amount of memory, never a
// worker: every connection is a bufferevent, parsed by http-parser, limited in header size,
// body size, header time, body time and idle time; at the connection cap the oldest idle
// connection is closed to admit a new one.
//
// One request at a time per connection: after a request is parsed the parser pauses until
// its response is written, then continues with the bytes already buffered, so pipelined
// requests are answered in order. Reading stops while a large response is still unsent.
// Everything runs on the loop thread; nothing here blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "http/message.h"
#include "process/event_loop.h"
#include "util/clock.h"
#include "util/status.h"

typedef struct ssl_st SSL;
struct evconnlistener;
struct event;
struct sockaddr;

namespace pgrt {

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Called after the headers, before any byte of the body is read. A value is sent at
  // once and the body is never read; when a body was announced the connection closes.
  virtual std::optional<HttpResponse> Screen(const HttpRequest& head) = 0;
  // The whole request; `respond` is called once, now or later, on the loop thread.
  virtual void Handle(const HttpRequest& request, Responder respond) = 0;
  // The answer to a request the server itself rejects (400, 408, 413, 431).
  virtual HttpResponse Error(int status, const std::string& reason) {
    return HttpResponse::Text(status, reason + "\n");
  }
};

struct HttpLimits {
  size_t max_header_bytes = 16384;  // request line and headers (http-parser caps at 80 kB)
  size_t max_body_bytes = 65536;
  Millis header_timeout{10000};  // from the first byte of a request to the end of its headers
  Millis body_timeout{10000};    // from the end of the headers to the end of the body
  Millis idle_timeout{60000};    // a kept-alive connection without a request
  // At the cap the oldest idle connection is closed to admit a new one; with none idle
  // the new one is refused.
  size_t max_connections = 4096;
  int backlog = 4096;
};

namespace http_internal {

class Connection;  // one client connection (http/connection.h, internal to http/)

// What a connection may ask of the server that accepted it: its place in the server's table
// and in the idle list (the oldest idle one goes first at the connection cap), and the
// server's counters.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  virtual void Forget(uint64_t id) = 0;      // the connection is closed; drop it
  virtual void MarkIdle(Connection& c) = 0;  // waiting for a request
  virtual void MarkBusy(Connection& c) = 0;  // a request began, or the connection closed
  virtual void CountTimeout() = 0;           // header, body or idle timeout
  virtual void CountRejection() = 0;         // malformed or over a limit (400, 413, 431)
};

}  // namespace http_internal

class HttpServer : private http_internal::ConnectionOwner {
 public:
  HttpServer(EventLoop& loop, HttpLimits limits, HttpHandler& handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds now ("0.0.0.0", "::", "127.0.0.1", "*" for every IPv4 address; port 0 picks a free
  // one). SO_REUSEADDR but not SO_REUSEPORT: a taken port is an error.
  Status Listen(const std::string& address, int port);
  int port() const { return port_; }  // the bound port
  // Serves TLS from now on: each new connection gets a server SSL from `new_ssl` (which may
  // change what it hands out: a rotated certificate serves new connections while open ones
  // keep theirs); a null SSL refuses the connection. Without this call there is no TLS and
  // no cost for it.
  void UseTls(std::function<SSL*()> new_ssl) { new_ssl_ = std::move(new_ssl); }
  // Stops listening and closes every connection; pending Responders then do nothing.
  void Close();

  struct Stats {
    size_t open = 0;         // connections now
    size_t idle = 0;         // of which waiting for a request
    uint64_t accepted = 0;   // since Listen
    uint64_t refused = 0;    // at the cap with none idle
    uint64_t evicted = 0;    // idle ones closed to admit a new one
    uint64_t timed_out = 0;  // header, body or idle timeouts
    uint64_t rejected = 0;   // malformed or over a limit (400, 413, 431)
  };
  Stats stats() const;

 private:
  using Connection = http_internal::Connection;

  static void OnAccept(evconnlistener* listener, int fd, sockaddr* addr, int len, void* arg);
  static void OnAcceptError(evconnlistener* listener, void* arg);
  void Accept(int fd, const sockaddr* addr, int len);
  // http_internal::ConnectionOwner
  void Forget(uint64_t id) override;
  void MarkIdle(Connection& c) override;
  void MarkBusy(Connection& c) override;
  void CountTimeout() override { ++stats_.timed_out; }
  void CountRejection() override { ++stats_.rejected; }

  EventLoop& loop_;
  const HttpLimits limits_;
  HttpHandler& handler_;
  evconnlistener* listener_ = nullptr;
  event* accept_retry_ = nullptr;  // re-enables accepting after EMFILE
  int port_ = 0;
  std::function<SSL*()> new_ssl_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Connection>> connections_;
  std::list<Connection*> idle_;  // oldest first
  Stats stats_;
};

}  // namespace pgrt
