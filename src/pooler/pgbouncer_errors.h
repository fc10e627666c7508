// pgbouncer_errors_count{errmsg}: the errors PgBouncer reports, counted from its own log, by
// message, as the pgbouncer exporter the stock PgBouncer alerts were written for counts them.
//
// An error is a "pooler error: <message>" line: PgBouncer logs one (at WARNING) for every
// error it sends a client — refused for max_client_conn, a failed login, a database postgres
// does not have, "server conn crashed?" when the server connection under a client went away.
// (The reasons PgBouncer gives for closing a server connection reach the log on their own
// only with log_disconnections, which pgrt leaves off; a close that a client sees is counted
// through that client's "pooler error".) The label is the message alone: the connection
// prefix (pointer, database/user, address) and any " (age=…)" are not part of it.
//
// Bounded: at most kMaxMessages distinct messages (the stock rules' two included); further
// ones, and lines a hostile name makes ambiguous, count under errmsg="other". A message is cut
// to kMaxMessageBytes, with control characters and invalid UTF-8 replaced by '?'.
//
// The pooler counts (PgbouncerLog feeds it); /metrics shows counts() (metrics/pgbouncer_metrics.h).
// Thread-safety: none; the pooler's log reader and the scrape both run on the event loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pgrt {

// What a "pooler error" line says, as it will be labelled; nullopt: not a pooler error line.
// A line with more than one place that reads as the end of a connection prefix followed by
// "pooler error: " (a client chose a name that looks like one) gives kPgbouncerOtherError.
std::optional<std::string> PgbouncerErrorMessage(std::string_view line);

inline constexpr const char* kPgbouncerOtherError = "other";

class PgbouncerErrorCounts {
 public:
  static constexpr size_t kMaxMessages = 32;
  static constexpr size_t kMaxMessageBytes = 200;

  // The messages the stock rules select are present from the start (at 0), so that the
  // first error is an increase Prometheus can see.
  PgbouncerErrorCounts();

  // Counts `line` (one line of PgBouncer's log, without its line feed) if it is an error.
  void CountLine(std::string_view line);

  const std::map<std::string, uint64_t>& counts() const { return counts_; }

 private:
  std::map<std::string, uint64_t> counts_;
};

}  // namespace pgrt
