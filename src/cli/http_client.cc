#include "cli/http_client.h"

#include <http_parser.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>

#include "tls/certificate.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

constexpr size_t kMaxAnswer = 64 * 1024 * 1024;  // /__opr/backups of a long history fits

struct Parsed {
  HttpAnswer answer;
  bool complete = false;
};

int OnBody(http_parser* p, const char* at, size_t len) {
  auto* out = static_cast<Parsed*>(p->data);
  if (out->answer.body.size() + len > kMaxAnswer) return 1;
  out->answer.body.append(at, len);
  return 0;
}

int OnComplete(http_parser* p) {
  static_cast<Parsed*>(p->data)->complete = true;
  return 0;
}

// Waits for `events` on fd until `deadline`; false on timeout.
bool WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

// One connection's bytes, plain or through TLS, with the deadline of the call.
class Wire {
 public:
  Wire(int fd, SSL* ssl, std::string where) : fd_(fd), ssl_(ssl), where_(std::move(where)) {}
  ~Wire() {
    if (ssl_ != nullptr) SSL_free(ssl_);
  }

  Status Handshake(std::chrono::steady_clock::time_point deadline) {
    SSL_set_fd(ssl_, fd_);
    for (;;) {
      ERR_clear_error();
      const int rc = SSL_connect(ssl_);
      if (rc == 1) return Status::Ok();
      const int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        if (!WaitFor(fd_, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
          return Status::DeadlineExceeded("TLS handshake with " + where_ + ": timed out");
        continue;
      }
      const long verdict = SSL_get_verify_result(ssl_);
      std::string why = verdict != X509_V_OK
                            ? std::string("the API's certificate was not verified: ") +
                                  X509_verify_cert_error_string(verdict)
                            : OpenSslErrors();
      return Status::Unavailable("TLS handshake with " + where_ + ": " +
                                 (why.empty() ? "failed" : why));
    }
  }

  // >0 bytes, 0 at the end of the stream, -1 with errno EAGAIN (wait for `*events`), or -2.
  ssize_t Send(const char* p, size_t n, short* events) {
    if (ssl_ == nullptr) {
      *events = POLLOUT;
      ssize_t r = ::send(fd_, p, n, MSG_NOSIGNAL);
      return r < 0 && (errno == EAGAIN || errno == EINTR) ? -1 : r < 0 ? -2 : r;
    }
    return Ssl(SSL_write(ssl_, p, static_cast<int>(n)), events);
  }
  ssize_t Recv(char* p, size_t n, short* events) {
    if (ssl_ == nullptr) {
      *events = POLLIN;
      ssize_t r = ::recv(fd_, p, n, 0);
      return r < 0 && (errno == EAGAIN || errno == EINTR) ? -1 : r < 0 ? -2 : r;
    }
    return Ssl(SSL_read(ssl_, p, static_cast<int>(n)), events);
  }
  SSL* ssl() const { return ssl_; }

 private:
  ssize_t Ssl(int rc, short* events) {
    if (rc > 0) return rc;
    switch (SSL_get_error(ssl_, rc)) {
      case SSL_ERROR_WANT_READ:
        *events = POLLIN;
        return -1;
      case SSL_ERROR_WANT_WRITE:
        *events = POLLOUT;
        return -1;
      case SSL_ERROR_ZERO_RETURN:
        return 0;
      case SSL_ERROR_SYSCALL:
        // A server that closes without close_notify after its answer: the end of the stream.
        return errno == 0 ? 0 : -2;
      default:
        ERR_clear_error();
        return -2;
    }
  }

  int fd_;
  SSL* ssl_;
  std::string where_;
};

}  // namespace

Result<HttpAnswer> HttpClient::Request(
    const std::string& method, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  const std::string where = host_ + ":" + std::to_string(port_);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &found); rc != 0)
    return Status::Unavailable("resolve " + where + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);

  UniqueFd fd(::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoStatus("socket");
  auto deadline = std::chrono::steady_clock::now() + connect_timeout_;
  if (::connect(fd.get(), found->ai_addr, found->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return ErrnoStatus("connect " + where);
    if (!WaitFor(fd.get(), POLLOUT, deadline))
      return Status::DeadlineExceeded("connect " + where + ": timed out");
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return ErrnoStatus("connect " + where, err);
  }

  SSL* ssl = nullptr;
  if (tls_) {
    if (!tls_->ok()) return tls_->status();
    ssl = (**tls_)->NewSsl();
    if (ssl == nullptr) return Status::Error("TLS: " + OpenSslErrors());
  }
  Wire wire(fd.get(), ssl, where);
  if (ssl != nullptr) {
    if (Status st = wire.Handshake(deadline); !st.ok()) return st;
    if (Status st = (**tls_)->CheckPeer(ssl); !st.ok()) return st.Wrap(where);
  }

  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + where +
                        "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n";
  if (!body.empty()) request += "Content-Type: application/json\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n" + body;
  deadline = std::chrono::steady_clock::now() + read_timeout_;
  for (size_t off = 0; off < request.size();) {
    short events = POLLOUT;
    ssize_t n = wire.Send(request.data() + off, request.size() - off, &events);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n == -1) {
      if (!WaitFor(fd.get(), events, deadline))
        return Status::DeadlineExceeded("send to " + where + ": timed out");
    } else {
      return ErrnoStatus("send to " + where);
    }
  }

  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_body = &OnBody;
  settings.on_message_complete = &OnComplete;
  http_parser parser;
  http_parser_init(&parser, HTTP_RESPONSE);
  Parsed parsed;
  parser.data = &parsed;
  char buf[16384];
  while (!parsed.complete) {
    short events = POLLIN;
    ssize_t n = wire.Recv(buf, sizeof buf, &events);
    if (n == -1) {
      if (!WaitFor(fd.get(), events, deadline))
        return Status::DeadlineExceeded(where + ": no answer in time");
      continue;
    }
    if (n < 0) return ErrnoStatus("read from " + where);
    // n == 0 tells the parser the stream ended (an answer delimited by the close).
    size_t used = http_parser_execute(&parser, &settings, buf, static_cast<size_t>(n));
    if (HTTP_PARSER_ERRNO(&parser) != HPE_OK || used != static_cast<size_t>(n))
      return Status::Unavailable(
          where + ": malformed answer: " + http_errno_description(HTTP_PARSER_ERRNO(&parser)));
    if (n == 0 && !parsed.complete)
      return Status::Unavailable(where + ": connection closed before the answer");
  }
  parsed.answer.status = static_cast<int>(parser.status_code);
  return parsed.answer;
}

}  // namespace pgrt
