// HAProxy (Debian's) for tests: started in the foreground with a configuration file, its
// output in a log file; Child's destructor kills and reaps it.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "process/child.h"

namespace pgrt::testing {

inline constexpr char kHaproxy[] = "/usr/sbin/haproxy";

inline std::optional<Child> StartHaproxy(const std::string& config, const std::string& log) {
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  SpawnSpec spec;
  spec.name = "haproxy";
  spec.argv = {kHaproxy, "-db", "-f", config};
  spec.env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
  spec.stdout_fd = fd;
  spec.stderr_fd = fd;
  auto child = Child::Spawn(spec);
  ::close(fd);
  if (!child.ok()) return std::nullopt;
  return std::move(*child);
}

}  // namespace pgrt::testing
