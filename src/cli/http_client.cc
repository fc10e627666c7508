#include "cli/http_client.h"

#include <http_parser.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>

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

  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + where +
                        "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n";
  if (!body.empty()) request += "Content-Type: application/json\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n" + body;
  deadline = std::chrono::steady_clock::now() + read_timeout_;
  for (size_t off = 0; off < request.size();) {
    ssize_t n = ::send(fd.get(), request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd.get(), POLLOUT, deadline))
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
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd.get(), POLLIN, deadline))
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
