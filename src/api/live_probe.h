// LiveProbe: "can a client connect and run a query right now?" — a fresh connection and
// SELECT 1 with a deadline, for /__opr/health and /readiness. Askers that arrive while a
// probe is out share it, and an answer younger than kReuse is given again, so a flood of
// health checks costs postgres at most one connection at a time.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "pg/async_conn.h"
#include "process/event_loop.h"

namespace pgrt {

class LiveProbe {
 public:
  static constexpr Millis kDeadline{2000};
  static constexpr Millis kReuse{100};

  LiveProbe(EventLoop& loop, ConnParams params);
  void Check(std::function<void(const Status&)> done);

 private:
  EventLoop& loop_;
  AsyncPgConn conn_;
  std::vector<std::function<void(const Status&)>> waiting_;
  std::optional<SteadyTime> last_at_;
  Status last_;
};

}  // namespace pgrt
