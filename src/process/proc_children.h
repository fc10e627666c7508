// The direct children of a process, read from /proc/<pid>/task/*/children (every thread's
// children: a child belongs to the thread that forked it).
#pragma once

#include <sys/types.h>

#include <vector>

namespace pgrt {

// Empty when `parent` is gone or /proc cannot say.
std::vector<pid_t> ChildrenOf(pid_t parent);

}  // namespace pgrt
