// The one place a Status's code becomes an HTTP status (HTTP codes exist only in api/).
#pragma once

#include "util/status.h"

namespace pgrt {

// 400 invalid argument or wrong state, 403, 404, 409 exists or busy, 503 unavailable or
// no answer in time, 500 the rest.
int HttpStatusOf(const Status& st);

}  // namespace pgrt
