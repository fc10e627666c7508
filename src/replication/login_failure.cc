#include "replication/login_failure.h"

namespace pgrt {
namespace {

// The last line of a multi-line libpq error, without the "FATAL:  " prefix.
std::string_view Essence(std::string_view error) {
  while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.remove_suffix(1);
  size_t fatal = error.rfind("FATAL:");
  if (fatal != std::string_view::npos) error.remove_prefix(fatal + 6);
  while (!error.empty() && error.front() == ' ') error.remove_prefix(1);
  return error;
}

}  // namespace

bool IsAuthenticationFailure(std::string_view error) {
  // The server's words for SQLSTATE 28P01/28000 ("password authentication failed for user",
  // "ident authentication failed for user") and libpq's when it has no password to give.
  // English only: a primary with other lc_messages words them differently, and its refusal
  // is then reported like an unreachable primary.
  for (std::string_view phrase : {"authentication failed for user", "no password supplied"})
    if (error.find(phrase) != std::string_view::npos) return true;
  return false;
}

std::string ReplicationLoginWarning(const Config& c, std::string_view error) {
  return "the primary " + c.primary_host + ":" + std::to_string(c.primary_port) +
         " refuses the replication login of \"" + c.replication_user + "\" (" +
         std::string(Essence(error)) +
         "): POSTGRES_REPLICATION_PASSWORD must be the primary's replication password";
}

}  // namespace pgrt
