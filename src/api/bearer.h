// The bearer credentials of an Authorization header (RFC 6750 over RFC 9110), and the
// comparison of a given token with the configured one. Pure functions, no HTTP types.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgrt {

// The token of `Bearer <token>`: the scheme in any case (RFC 9110 §11.1: `bearer`, `BEARER`),
// one or more spaces, then the token up to trailing whitespace. nullopt for another scheme
// or no token.
std::optional<std::string> BearerToken(std::string_view authorization_header);

// Whether `given` equals `expected`, in a time that depends on their lengths only: the
// token is a secret, and a byte-by-byte early exit would tell how much of a guess is right.
bool TokensEqual(std::string_view given, std::string_view expected);

}  // namespace pgrt
