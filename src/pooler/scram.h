// SCRAM-SHA-256 secrets as PostgreSQL and PgBouncer store them, and random tokens.
//
// PgBouncer's auth_file may hold a SCRAM secret instead of a password: whoever reads the
// file learns nothing that logs in. pgrt uses that for its own console account, whose
// password exists only in pgrt's memory.
#pragma once

#include <string>

#include "util/status.h"

namespace pgrt {

// "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>" (RFC 5802/7677, base64 parts)
// with a fresh random salt. `password` must be ASCII (SASLprep is then the identity).
Result<std::string> ScramSecret(const std::string& password, int iterations = 4096);

// `bytes` random bytes from the kernel, hex-encoded.
Result<std::string> RandomHex(size_t bytes);

}  // namespace pgrt
