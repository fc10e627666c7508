// Rules that involve more than one variable (replica mode needs a primary host, ...).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "config/config.h"

namespace pgrt {

// One problem line per broken rule. Rules about a variable in `invalid` (whose own value
// was already reported) are skipped, so that one typo does not cause a second, misleading
// complaint.
std::vector<std::string> CheckCrossField(const Config& config,
                                         const std::set<std::string>& invalid);

}  // namespace pgrt
