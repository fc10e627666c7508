// Telling a primary that refuses the replication credentials from one that is away: the
// first is an operator's mistake worth a warning and a status message (naming the variable
// to fix), the second a wait worth an info line.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"

namespace pgrt {

// Whether a libpq or pg_basebackup error says the server refused the login's credentials
// ("password authentication failed for user ...", "fe_sendauth: no password supplied").
bool IsAuthenticationFailure(std::string_view error);

// The warning for such a failure: who refused whom, and that POSTGRES_REPLICATION_PASSWORD
// must match the primary's. Carries the error, never the password.
std::string ReplicationLoginWarning(const Config& c, std::string_view error);

}  // namespace pgrt
