#include "idle/relay.h"

#include <errno.h>
#include <sys/socket.h>

namespace pgrt {
namespace {

int Interest(bool read, bool write) {
  return (read ? EventLoop::kReadable : 0) | (write ? EventLoop::kWritable : 0);
}

bool WouldBlock(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

}  // namespace

Relay::Relay(EventLoop& loop, std::vector<char>& buffer, UniqueFd client, UniqueFd server,
             std::string pending, std::function<void()> on_close)
    : loop_(loop), buffer_(buffer), on_close_(std::move(on_close)) {
  client_.fd = std::move(client);
  server_.fd = std::move(server);
  server_.out = std::move(pending);
}

Relay::~Relay() {
  if (watching_) {
    loop_.Unwatch(client_.fd.get());
    loop_.Unwatch(server_.fd.get());
  }
}

Status Relay::Start() {
  // The held client's first bytes go first; the client is read once they are sent.
  if (!Flush(server_)) return Status::Error("relay: postgres closed the connection");
  client_.interest = Interest(server_.out.empty(), false);
  server_.interest = Interest(true, !server_.out.empty());
  PGRT_RETURN_IF_ERROR(loop_.WatchIo(client_.fd.get(), client_.interest,
                                     [this](int ready) { OnIo(client_, server_, ready); }),
                       "relay");
  Status st = loop_.WatchIo(server_.fd.get(), server_.interest,
                            [this](int ready) { OnIo(server_, client_, ready); });
  if (!st.ok()) {
    loop_.Unwatch(client_.fd.get());
    return st.Wrap("relay");
  }
  watching_ = true;
  return Status::Ok();
}

bool Relay::Flush(Side& side) {
  while (side.out_sent < side.out.size()) {
    ssize_t n = ::send(side.fd.get(), side.out.data() + side.out_sent,
                       side.out.size() - side.out_sent, MSG_NOSIGNAL);
    if (n < 0) return WouldBlock(errno);
    side.out_sent += static_cast<size_t>(n);
  }
  side.out.clear();
  side.out_sent = 0;
  return true;
}

void Relay::Send(Side& to, const char* data, size_t len) {
  if (to.out.empty()) {
    ssize_t n = ::send(to.fd.get(), data, len, MSG_NOSIGNAL);
    if (n < 0 && !WouldBlock(errno)) {
      to.eof = true;
      return;
    }
    const size_t sent = n < 0 ? 0 : static_cast<size_t>(n);
    if (sent == len) return;
    data += sent;
    len -= sent;
  }
  to.out.append(data, len);
}

void Relay::OnIo(Side& self, Side& peer, int ready) {
  if (closed_) return;
  if ((ready & EventLoop::kWritable) && !Flush(self)) self.eof = true;
  if ((ready & EventLoop::kReadable) && !self.eof && peer.out.empty()) {
    ssize_t n = ::recv(self.fd.get(), buffer_.data(), buffer_.size(), 0);
    if (n > 0)
      Send(peer, buffer_.data(), static_cast<size_t>(n));
    else if (n == 0 || !WouldBlock(errno))
      self.eof = true;
  }
  // One side gone: what the other is still owed is delivered, then both close (a
  // PostgreSQL session has no use for a half-open connection).
  auto gone = [](const Side& x, const Side& y) { return x.eof && (y.out.empty() || y.eof); };
  if (gone(self, peer) || gone(peer, self)) return Finish();
  Update(self, peer);
  Update(peer, self);
}

void Relay::Update(Side& side, const Side& peer) {
  // Read only while the peer has nothing queued; write only while something is queued.
  const int want = Interest(!side.eof && peer.out.empty(), !side.out.empty());
  if (want == side.interest) return;
  side.interest = want;
  if (!loop_.SetInterest(side.fd.get(), want).ok()) Finish();
}

void Relay::Finish() {
  if (closed_) return;
  closed_ = true;
  auto done = std::move(on_close_);
  if (done) done();  // may destroy this relay: nothing after it
}

}  // namespace pgrt
