// What pgrt reports about a certificate it serves (postgres's and PgBouncer's, the API's):
// the one in use, when it was last replaced, and why the last replacement was refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "util/clock.h"

namespace pgrt {

struct TlsCertStatus {
  std::string subject;  // of the certificate in use
  std::string serial;
  std::string sha256;
  int64_t not_after = 0;                    // seconds since the epoch
  std::optional<SystemTime> last_rotation;  // a new set was installed (not the first one)
  std::string last_error;                   // why the last new set was refused; "" when none
  uint64_t rotations = 0;
  uint64_t failures = 0;  // new sets refused
};

}  // namespace pgrt
