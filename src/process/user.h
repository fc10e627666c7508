// Unix accounts: who a child process runs as.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/status.h"

namespace pgrt {

struct Credentials {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, resolved before fork
  std::string home;
};

// Looks a user up by name (the uid of `postgres` differs between hosts and images).
Result<Credentials> LookupUser(const std::string& name);

// The account this process runs as.
Result<Credentials> CurrentUser();

// The account children run as: `run_as` when pgrt is root, else pgrt's own account.
// Refuses root: PostgreSQL must never run as root.
Result<Credentials> ChildCredentials(const std::string& run_as);

}  // namespace pgrt
