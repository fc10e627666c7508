// The environment children get: a short allow-list of pgrt's own (PATH, locale, time zone)
// plus the account's HOME/USER. Nothing else crosses over, so no secret given to pgrt
// (POSTGRES_PASSWORD, *_FILE paths, tokens) reaches postgres, initdb or scripts.
#pragma once

#include <map>
#include <string>

#include "process/user.h"

namespace pgrt {

std::map<std::string, std::string> ScrubbedEnvironment(
    const std::map<std::string, std::string>& parent, const Credentials& who);

}  // namespace pgrt
