#include "process/environment.h"

namespace pgrt {

std::map<std::string, std::string> ScrubbedEnvironment(
    const std::map<std::string, std::string>& parent, const Credentials& who) {
  std::map<std::string, std::string> env;
  for (const auto& [k, v] : parent) {
    if (k == "PATH" || k == "LANG" || k == "TZ" || k == "LANGUAGE" || k.rfind("LC_", 0) == 0)
      env[k] = v;
  }
  if (!env.count("PATH"))
    env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (!env.count("LANG")) env["LANG"] = "C.UTF-8";
  env["HOME"] = who.home;
  env["USER"] = who.name;
  env["LOGNAME"] = who.name;
  return env;
}

}  // namespace pgrt
