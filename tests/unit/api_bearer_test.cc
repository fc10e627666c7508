// The bearer token of an Authorization header, and the token comparison.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "api/bearer.h"

namespace pgrt {
namespace {

TEST(BearerToken, TheSchemeIsCaseInsensitiveAndTheTokenFollowsOneOrMoreSpaces) {
  struct Case {
    const char* header;
    std::optional<std::string> token;
  };
  const std::vector<Case> cases = {
      {"Bearer xyz", "xyz"},
      {"bearer xyz", "xyz"},
      {"BEARER xyz", "xyz"},
      {"bEaReR xyz", "xyz"},
      {"Bearer   xyz", "xyz"},                        // 1*SP
      {"Bearer\txyz", "xyz"},                         // tolerated like a space
      {"  Bearer xyz  ", "xyz"},                      // optional whitespace around the field value
      {"Bearer a.b-c_d~e+f/g==", "a.b-c_d~e+f/g=="},  // token68
      {"Bearer", std::nullopt},                       // no token
      {"Bearer ", std::nullopt},
      {"Bearer    ", std::nullopt},
      {"Bearerxyz", std::nullopt},  // another scheme
      {"Basic eHl6OnB3", std::nullopt},
      {"Token xyz", std::nullopt},
      {"", std::nullopt},
      {"xyz", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.header);
    EXPECT_EQ(BearerToken(c.header), c.token);
  }
}

TEST(TokensEqual, EqualOnlyForTheSameBytesAndNeverForAnEmptyConfiguredToken) {
  struct Case {
    const char* given;
    const char* expected;
    bool equal;
  };
  const std::vector<Case> cases = {
      {"secret", "secret", true},
      {"secreT", "secret", false},
      {"secre", "secret", false},
      {"secrets", "secret", false},
      {"", "secret", false},
      {"", "", false},
      {"x", "", false},
      {"secretsecret", "secret", false},  // a repetition of the token is not the token
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.given) + " vs " + c.expected);
    EXPECT_EQ(TokensEqual(c.given, c.expected), c.equal);
  }
}

}  // namespace
}  // namespace pgrt
