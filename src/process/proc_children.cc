#include "process/proc_children.h"

#include <sstream>
#include <string>

#include "util/fs.h"

namespace pgrt {

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  const std::string task = "/proc/" + std::to_string(parent) + "/task";
  auto threads = ListDirectory(task);
  if (!threads.ok()) return out;  // gone already
  for (const std::string& tid : *threads) {
    auto children = ReadFile(task + "/" + tid + "/children");
    if (!children.ok()) continue;
    std::istringstream in(*children);
    pid_t child = 0;
    while (in >> child) out.push_back(child);
  }
  return out;
}

}  // namespace pgrt
