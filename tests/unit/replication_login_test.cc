// Telling a refused replication login from an unreachable primary, and the warning for it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "replication/login_failure.h"

namespace pgrt {
namespace {

TEST(IsAuthenticationFailure, RefusedCredentialsOnlyNotAnAbsentPrimary) {
  struct Case {
    const char* error;
    bool refused;
  };
  const std::vector<Case> cases = {
      {"connect: connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password "
       "authentication failed for user \"replicator\"",
       true},
      {"pg_basebackup: error: connection to server at \"db\" (198.51.100.2), port 5432 failed: "
       "FATAL:  password authentication failed for user \"replicator\"",
       true},
      {"connect: connection to server at \"db\", port 5432 failed: fe_sendauth: no password "
       "supplied",
       true},
      {"connect: connection to server at \"127.0.0.1\", port 5432 failed: Connection refused\n"
       "\tIs the server running on that host and accepting TCP/IP connections?",
       false},
      {"connect: could not translate host name \"primary\" to address: Name or service not known",
       false},
      {"connect: connection to server at \"db\", port 5432 failed: FATAL:  no pg_hba.conf entry "
       "for replication connection from host \"198.51.100.3\", user \"replicator\", no encryption",
       false},
      {"connect: connection to server at \"db\", port 5432 failed: FATAL:  the database system "
       "is starting up",
       false},
      {"", false},
  };
  for (const Case& c : cases) EXPECT_EQ(IsAuthenticationFailure(c.error), c.refused) << c.error;
}

TEST(ReplicationLoginWarning, NamesThePrimaryTheUserAndTheVariableButNotThePassword) {
  Config c;
  c.primary_host = "db.internal";
  c.primary_port = 5433;
  c.replication_user = "replicator";
  c.replication_password = "the-secret";
  const std::string w = ReplicationLoginWarning(
      c,
      "connect: connection to server at \"db.internal\", port 5433 failed: FATAL:  password "
      "authentication failed for user \"replicator\"\n");
  EXPECT_EQ(w,
            "the primary db.internal:5433 refuses the replication login of \"replicator\" "
            "(password authentication failed for user \"replicator\"): "
            "POSTGRES_REPLICATION_PASSWORD must be the primary's replication password");
  EXPECT_EQ(w.find("the-secret"), std::string::npos);
}

}  // namespace
}  // namespace pgrt
