// Removing secrets from pgrt's own environment once the Config holds them.
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/descriptors.h"

extern char** environ;

namespace pgrt {

void ScrubSecretsFromProcessEnvironment() {
  std::vector<std::string> names;
  for (const Descriptor& d : Descriptors()) {
    if (d.secret()) names.emplace_back(d.name);
  }
  for (const auto& name : names) {
    const std::string prefix = name + "=";
    for (char** e = environ; e && *e; ++e) {
      // The strings of the initial environment are what /proc/PID/environ shows, and what a
      // child holds between fork and exec: blank them in place before unsetting.
      if (std::strncmp(*e, prefix.c_str(), prefix.size()) == 0)
        std::memset(*e + prefix.size(), 0, std::strlen(*e + prefix.size()));
    }
    ::unsetenv(name.c_str());
  }
}

}  // namespace pgrt
