#include "http/connection.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>

namespace pgrt::http_internal {
namespace {

// Bytes read from a socket but not yet parsed, per connection: libevent stops reading at
// this mark (a request waiting for its answer keeps the rest in the kernel).
constexpr size_t kReadHighWater = 16384;
// While more than this is unsent, the connection is not read; reading resumes below the
// low mark. Answers of the API are small; /metrics is the largest.
constexpr size_t kOutputHigh = 256 * 1024;
constexpr size_t kOutputLow = 64 * 1024;
// After the last answer of a closing connection: read and discard for this long (so the
// client gets the answer rather than a reset) but never more than this many bytes.
constexpr Millis kLinger{1000};
constexpr size_t kLingerBytes = 256 * 1024;
constexpr size_t kMaxFeed = 16384;       // bytes handed to the parser at once
constexpr Millis kUnsentTimeout{30000};  // a client that does not read its answer

}  // namespace

timeval ToTimeval(Millis d) {
  return timeval{static_cast<time_t>(d.count() / 1000),
                 static_cast<suseconds_t>((d.count() % 1000) * 1000)};
}

Connection::Connection(ConnectionOwner& owner, const HttpLimits& limits, HttpHandler& handler,
                       uint64_t id, bufferevent* bev, std::string peer)
    : id(id),
      owner_(owner),
      limits_(limits),
      handler_(handler),
      bev_(bev),
      peer_(std::move(peer)) {}

Connection::~Connection() {
  if (timer_ != nullptr) event_free(timer_);
  if (bev_ != nullptr) bufferevent_free(bev_);
}

const http_parser_settings& Connection::Settings() {
  static const http_parser_settings settings = [] {
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_message_begin = &OnMessageBegin;
    s.on_url = &OnUrl;
    s.on_header_field = &OnHeaderField;
    s.on_header_value = &OnHeaderValue;
    s.on_headers_complete = &OnHeadersComplete;
    s.on_body = &OnBody;
    s.on_chunk_header = &OnChunkHeader;
    s.on_message_complete = &OnMessageComplete;
    return s;
  }();
  return settings;
}

void Connection::Begin() {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  timer_ = evtimer_new(bufferevent_get_base(bev_), &OnTimer, this);
  bufferevent_setcb(bev_, &OnRead, &OnWrite, &OnEvent, this);
  bufferevent_setwatermark(bev_, EV_READ, 0, kReadHighWater);
  bufferevent_setwatermark(bev_, EV_WRITE, kOutputLow, 0);
  bufferevent_enable(bev_, EV_READ | EV_WRITE);
  BecomeIdleIfQuiet();
}

void Connection::Destroy() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  Disarm();
  if (bev_ != nullptr) bufferevent_free(bev_);  // closes the socket
  bev_ = nullptr;
  owner_.Forget(id);
}

void Connection::Arm(Millis delay) {
  timeval tv = ToTimeval(delay);
  evtimer_add(timer_, &tv);
}

void Connection::Disarm() {
  if (timer_ != nullptr) evtimer_del(timer_);
}

int Connection::OnMessageBegin(http_parser* p) {
  Connection& c = Of(p);
  c.phase_ = Phase::kHead;
  c.req_ = HttpRequest{};
  c.req_.peer = c.peer_;
  // The handshake is over once request bytes arrive.
  if (SSL* ssl = bufferevent_openssl_get_ssl(c.bev_); ssl != nullptr)
    c.req_.client_cert_verified =
        SSL_get0_peer_certificate(ssl) != nullptr && SSL_get_verify_result(ssl) == X509_V_OK;
  c.field_.clear();
  c.in_value_ = false;
  c.body_too_large_ = false;
  c.screened_.reset();
  c.owner_.MarkBusy(c);
  c.Arm(c.limits_.header_timeout);
  return 0;
}

int Connection::OnUrl(http_parser* p, const char* at, size_t len) {
  Of(p).req_.target.append(at, len);
  return 0;
}

int Connection::OnHeaderField(http_parser* p, const char* at, size_t len) {
  Connection& c = Of(p);
  if (c.in_value_) {
    c.in_value_ = false;
    c.field_.clear();
  }
  for (size_t i = 0; i < len; ++i)
    c.field_.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(at[i]))));
  return 0;
}

int Connection::OnHeaderValue(http_parser* p, const char* at, size_t len) {
  Connection& c = Of(p);
  if (!c.in_value_) {
    c.in_value_ = true;
    c.req_.headers.emplace_back(c.field_, std::string());
  }
  c.req_.headers.back().second.append(at, len);
  return 0;
}

int Connection::OnHeadersComplete(http_parser* p) {
  Of(p).head_ready_ = true;
  http_parser_pause(p, 1);  // Screen() runs before any byte of the body is parsed
  return 0;
}

int Connection::OnBody(http_parser* p, const char* at, size_t len) {
  Connection& c = Of(p);
  if (c.req_.body.size() + len > c.limits_.max_body_bytes) {
    c.body_too_large_ = true;
    return 1;
  }
  c.req_.body.append(at, len);
  return 0;
}

int Connection::OnChunkHeader(http_parser* p) {
  Connection& c = Of(p);
  // The size of the next chunk is known before its bytes: refuse it before reading them.
  if (p->content_length > c.limits_.max_body_bytes - c.req_.body.size()) {
    c.body_too_large_ = true;
    return 1;
  }
  return 0;
}

int Connection::OnMessageComplete(http_parser* p) {
  Of(p).message_ready_ = true;
  http_parser_pause(p, 1);  // the next pipelined request waits for this one's answer
  return 0;
}

void Connection::OnRead(bufferevent*, void* arg) {
  auto self = static_cast<Connection*>(arg)->shared_from_this();
  if (self->phase_ == Phase::kLingering) {
    evbuffer* in = bufferevent_get_input(self->bev_);
    self->discarded_ += evbuffer_get_length(in);
    evbuffer_drain(in, evbuffer_get_length(in));
    if (self->discarded_ > kLingerBytes) self->Destroy();
    return;
  }
  self->Process();
}

void Connection::OnWrite(bufferevent*, void* arg) {
  auto self = static_cast<Connection*>(arg)->shared_from_this();
  size_t unsent = evbuffer_get_length(bufferevent_get_output(self->bev_));
  if (self->phase_ == Phase::kClosing && unsent == 0) {
    self->StartLinger();
  } else if (self->phase_ == Phase::kDraining) {
    self->Disarm();
    self->phase_ = Phase::kIdle;
    bufferevent_enable(self->bev_, EV_READ);
    self->Process();
  }
}

void Connection::OnEvent(bufferevent*, short what, void* arg) {
  auto self = static_cast<Connection*>(arg)->shared_from_this();
  if (what & BEV_EVENT_ERROR) return self->Destroy();
  if (what & BEV_EVENT_EOF) {
    self->peer_eof_ = true;
    switch (self->phase_) {
      case Phase::kHandling:  // a client that half-closed still gets its answer
      case Phase::kDraining:
      case Phase::kClosing:
        return;
      default:
        return self->Destroy();  // nothing more can arrive to finish a request
    }
  }
}

void Connection::OnTimer(int, short, void* arg) {
  auto self = static_cast<Connection*>(arg)->shared_from_this();
  switch (self->phase_) {
    case Phase::kHead:
      self->owner_.CountTimeout();
      return self->Reject(408, "request header timeout");
    case Phase::kBody:
      self->owner_.CountTimeout();
      return self->Reject(408, "request body timeout");
    case Phase::kIdle:
      self->owner_.CountTimeout();
      return self->Destroy();
    case Phase::kHandling:  // no timer runs while the handler has the request
      return;
    default:  // the client does not read its answer, or lingers too long
      return self->Destroy();
  }
}

void Connection::Process() {
  // Re-entered from a Responder that runs inside Handle(): the outer call continues, so
  // pipelined requests never recurse.
  if (processing_) {
    reprocess_ = true;
    return;
  }
  auto self = shared_from_this();
  processing_ = true;
  do {
    reprocess_ = false;
    ProcessOnce();
  } while (reprocess_ && phase_ != Phase::kClosed);
  processing_ = false;
}

void Connection::ProcessOnce() {
  evbuffer* in = bufferevent_get_input(bev_);
  while (phase_ == Phase::kIdle || phase_ == Phase::kHead || phase_ == Phase::kBody) {
    evbuffer_iovec vec;
    if (evbuffer_get_length(in) == 0 || evbuffer_peek(in, -1, nullptr, &vec, 1) < 1) break;
    size_t len = std::min(vec.iov_len, kMaxFeed);
    const bool heading = phase_ != Phase::kBody;
    // Never more than one byte past the header limit: the excess is noticed, not stored.
    if (heading) len = std::min(len, limits_.max_header_bytes + 1 - head_bytes_);
    size_t used =
        http_parser_execute(&parser_, &Settings(), static_cast<const char*>(vec.iov_base), len);
    evbuffer_drain(in, used);
    if (heading) head_bytes_ += used;
    http_errno err = HTTP_PARSER_ERRNO(&parser_);
    if (err == HPE_PAUSED) {
      http_parser_pause(&parser_, 0);
    } else if (err != HPE_OK) {
      if (body_too_large_) return Reject(413, "request body too large");
      if (err == HPE_HEADER_OVERFLOW) return Reject(431, "request header too large");
      return Reject(400, std::string("malformed request: ") + http_errno_description(err));
    }
    if (head_ready_) {
      head_ready_ = false;
      if (!HeadParsed()) return;
      continue;
    }
    if (message_ready_) {
      message_ready_ = false;
      Dispatch();
      continue;  // answered at once: the next pipelined request; else phase_ stops the loop
    }
    if (heading && head_bytes_ > limits_.max_header_bytes)
      return Reject(431, "request header too large");
  }
  if (peer_eof_ && (phase_ == Phase::kIdle || phase_ == Phase::kHead || phase_ == Phase::kBody))
    return Destroy();
  BecomeIdleIfQuiet();
}

bool Connection::HeadParsed() {
  req_.method = http_method_str(static_cast<http_method>(parser_.method));
  req_.http_minor = parser_.http_minor;
  http_parser_url url;
  http_parser_url_init(&url);
  if (http_parser_parse_url(req_.target.data(), req_.target.size(), parser_.method == HTTP_CONNECT,
                            &url) != 0) {
    Reject(400, "malformed request target");
    return false;
  }
  auto field = [&](int f) -> std::string_view {
    if (!(url.field_set & (1 << f))) return {};
    return std::string_view(req_.target).substr(url.field_data[f].off, url.field_data[f].len);
  };
  req_.path = (url.field_set & (1 << UF_PATH)) ? PercentDecode(field(UF_PATH), false) : "/";
  req_.query = std::string(field(UF_QUERY));
  keep_alive_ = http_should_keep_alive(&parser_) != 0;

  const bool chunked = (parser_.flags & F_CHUNKED) != 0;
  const bool has_length = (parser_.flags & F_CONTENTLENGTH) != 0;
  const bool has_body = chunked || (has_length && parser_.content_length > 0);
  std::optional<HttpResponse> screened = handler_.Screen(req_);
  if (screened) {
    if (has_body) {  // the body is never read: answer and close
      Disarm();
      phase_ = Phase::kHandling;
      Send(*screened, true);
      return false;
    }
    screened_ = std::move(screened);  // answered in turn, like any other request
  } else if (has_length && parser_.content_length > limits_.max_body_bytes) {
    Reject(413, "request body too large");
    return false;
  } else if (has_body && req_.http_minor >= 1) {
    auto expect = req_.Header("expect");
    if (expect && (*expect == "100-continue" || *expect == "100-Continue"))
      evbuffer_add(bufferevent_get_output(bev_), "HTTP/1.1 100 Continue\r\n\r\n", 25);
  }
  phase_ = Phase::kBody;
  Arm(limits_.body_timeout);
  return true;
}

void Connection::Dispatch() {
  Disarm();
  phase_ = Phase::kHandling;
  const uint64_t seq = ++seq_;
  if (screened_) {
    HttpResponse r = std::move(*screened_);
    screened_.reset();
    return Respond(seq, std::move(r));
  }
  std::weak_ptr<Connection> weak = weak_from_this();
  handler_.Handle(req_, [weak, seq](HttpResponse response) {
    if (auto c = weak.lock()) c->Respond(seq, std::move(response));
  });
}

void Connection::Respond(uint64_t seq, HttpResponse response) {
  if (phase_ != Phase::kHandling || seq != seq_) return;  // closed meanwhile, or answered
  Send(response, !keep_alive_ || peer_eof_);
  if (phase_ == Phase::kIdle) Process();  // the next pipelined request, if buffered
}

void Connection::Send(const HttpResponse& r, bool close) {
  std::string head = "HTTP/1." + std::to_string(req_.http_minor == 0 ? 0 : 1) + " " +
                     std::to_string(r.status) + " " +
                     http_status_str(static_cast<http_status>(r.status)) + "\r\n";
  if (!r.content_type.empty()) head += "Content-Type: " + r.content_type + "\r\n";
  head += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  for (const auto& [name, value] : r.headers) head += name + ": " + value + "\r\n";
  if (close) {
    head += "Connection: close\r\n";
  } else if (req_.http_minor == 0) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
  evbuffer* out = bufferevent_get_output(bev_);
  evbuffer_add(out, head.data(), head.size());
  if (req_.method != "HEAD") evbuffer_add(out, r.body.data(), r.body.size());

  req_ = HttpRequest{};
  head_bytes_ = 0;
  if (close) {
    phase_ = Phase::kClosing;  // OnWrite lingers once everything is out
    bufferevent_disable(bev_, EV_READ);
    Arm(kUnsentTimeout);
    return;
  }
  if (evbuffer_get_length(out) > kOutputHigh) {
    phase_ = Phase::kDraining;  // OnWrite resumes below kOutputLow
    bufferevent_disable(bev_, EV_READ);
    Arm(kUnsentTimeout);
    return;
  }
  phase_ = Phase::kIdle;
}

void Connection::Reject(int status, const std::string& reason) {
  if (status != 408) owner_.CountRejection();
  spdlog::debug("http {}: {} {}", peer_, status, reason);
  Disarm();
  Send(handler_.Error(status, reason), true);
}

void Connection::StartLinger() {
  phase_ = Phase::kLingering;
  // The answer is out: half-close, then discard what the client still sends until it closes,
  // so closing with unread bytes does not reset the connection before the answer is read.
  ::shutdown(bufferevent_getfd(bev_), SHUT_WR);
  evbuffer* in = bufferevent_get_input(bev_);
  evbuffer_drain(in, evbuffer_get_length(in));
  if (peer_eof_) return Destroy();
  bufferevent_enable(bev_, EV_READ);
  Arm(kLinger);
}

void Connection::BecomeIdleIfQuiet() {
  if (phase_ != Phase::kIdle || idle) return;
  if (evbuffer_get_length(bufferevent_get_input(bev_)) != 0) return;
  owner_.MarkIdle(*this);
  Arm(limits_.idle_timeout);
}

}  // namespace pgrt::http_internal
