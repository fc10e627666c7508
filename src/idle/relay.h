// Relay: copies bytes both ways between a client and postgres on the loop, untouched (TLS
// and SCRAM stay end to end). It is the hot path of a node behind the client door, so it
// is written for the fewest system calls: a readable side is read once into the door's
// shared buffer and written to the other side at once; only what the other side cannot
// take now is kept, and then that direction stops reading until it is sent (backpressure:
// a slow reader never makes pgrt buffer more than one read). Interest in a socket changes
// only when its state does.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "process/event_loop.h"
#include "util/status.h"
#include "util/unique_fd.h"

namespace pgrt {

class Relay {
 public:
  // `pending`: bytes already read from the client (its startup packet), sent to postgres
  // first. `buffer` is shared by every relay of one loop (one read at a time). `on_close`
  // runs once, as the last thing the relay does: the owner may destroy it there.
  Relay(EventLoop& loop, std::vector<char>& buffer, UniqueFd client, UniqueFd server,
        std::string pending, std::function<void()> on_close);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  Status Start();

 private:
  struct Side {
    UniqueFd fd;
    std::string out;  // bytes for this side that it could not take yet
    size_t out_sent = 0;
    bool eof = false;  // it closed, or failed
    int interest = 0;
  };
  void OnIo(Side& self, Side& peer, int ready);
  // Writes what `side` is owed; false when the socket failed.
  bool Flush(Side& side);
  void Send(Side& to, const char* data, size_t len);
  void Update(Side& side, const Side& peer);
  void Finish();

  EventLoop& loop_;
  std::vector<char>& buffer_;
  Side client_;
  Side server_;
  std::function<void()> on_close_;
  bool watching_ = false;
  bool closed_ = false;
};

}  // namespace pgrt
