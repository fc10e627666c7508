// http_internal::Connection: one client connection of an HttpServer (server.h), internal to
// http/ (included by server.cc and connection.cc only). It parses requests with http-parser
// from its bufferevent, one at a time, screens each after its headers, hands it to the
// handler, writes the answer, keeps the connection's timers (header, body, idle, unsent) and
// closes it by lingering, so the client reads the last answer rather than a reset.
//
// The server accepts the socket and owns the connection in its table; the connection reaches
// back only through ConnectionOwner (server.h): leaving the table, being marked idle or busy,
// and the server's counters.
#pragma once

#include <http_parser.h>
#include <sys/time.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "http/message.h"
#include "http/server.h"
#include "util/clock.h"

struct bufferevent;
struct event;

namespace pgrt::http_internal {

// A duration for libevent's timers (a connection's, and the server's accept retry).
timeval ToTimeval(Millis d);

// Owned by the server's table (shared, so a callback that closes it keeps it alive until it
// returns); Responders hold it weakly.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ConnectionOwner& owner, const HttpLimits& limits, HttpHandler& handler, uint64_t id,
             bufferevent* bev, std::string peer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Begin();
  void Destroy();  // closes the socket now and leaves the server's table

  const uint64_t id;
  // Kept by the owner's MarkIdle and MarkBusy: whether, and where, it is in the idle list.
  bool idle = false;
  std::list<Connection*>::iterator idle_pos;

 private:
  enum class Phase {
    kIdle,       // between requests: no byte of the next one yet
    kHead,       // request line and headers
    kBody,       // headers screened, reading the body
    kHandling,   // the handler has the request; the parser waits
    kDraining,   // a large answer is being written; reading waits
    kClosing,    // the last answer is being written
    kLingering,  // written; reading and discarding until the client closes
    kClosed,
  };

  static const http_parser_settings& Settings();
  static Connection& Of(http_parser* p) { return *static_cast<Connection*>(p->data); }
  static int OnMessageBegin(http_parser* p);
  static int OnUrl(http_parser* p, const char* at, size_t len);
  static int OnHeaderField(http_parser* p, const char* at, size_t len);
  static int OnHeaderValue(http_parser* p, const char* at, size_t len);
  static int OnHeadersComplete(http_parser* p);
  static int OnBody(http_parser* p, const char* at, size_t len);
  static int OnChunkHeader(http_parser* p);
  static int OnMessageComplete(http_parser* p);

  static void OnRead(bufferevent* bev, void* arg);
  static void OnWrite(bufferevent* bev, void* arg);
  static void OnEvent(bufferevent* bev, short what, void* arg);
  static void OnTimer(int fd, short what, void* arg);

  void Process();
  void ProcessOnce();
  bool HeadParsed();  // false: the connection is closing
  void Dispatch();
  void Respond(uint64_t seq, HttpResponse response);
  void Send(const HttpResponse& response, bool close);
  void Reject(int status, const std::string& reason);
  void StartLinger();
  void BecomeIdleIfQuiet();
  void Arm(Millis delay);
  void Disarm();

  ConnectionOwner& owner_;
  const HttpLimits& limits_;  // the server's
  HttpHandler& handler_;
  bufferevent* bev_;
  event* timer_ = nullptr;
  const std::string peer_;
  http_parser parser_{};
  Phase phase_ = Phase::kIdle;
  HttpRequest req_;
  std::string field_;           // name of the header being read, lower-cased
  bool in_value_ = false;       // the parser is inside a header value
  size_t head_bytes_ = 0;       // of the request being read, up to the end of its headers
  bool head_ready_ = false;     // paused at the end of the headers
  bool message_ready_ = false;  // paused at the end of the request
  bool body_too_large_ = false;
  bool keep_alive_ = true;
  bool peer_eof_ = false;
  std::optional<HttpResponse> screened_;  // Screen's answer to a request without a body
  uint64_t seq_ = 0;                      // of the request the handler has
  bool processing_ = false, reprocess_ = false;
  size_t discarded_ = 0;
};

}  // namespace pgrt::http_internal
