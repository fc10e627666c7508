// Child: one spawned process, owned. The destructor kills and reaps a child that is still
// running, so no child outlives its owner.
//
// Spawning drops privileges (when pgrt is root), resets every signal disposition and the
// signal mask, puts the child in its own process group, and asks the kernel to kill it
// when pgrt dies (PR_SET_PDEATHSIG, set after setuid, which would clear it). The child
// gets exactly the environment in its spec: callers scrub secrets out of it.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "process/user.h"
#include "util/status.h"

namespace pgrt {

struct SpawnSpec {
  std::string name;                        // for logs and errors
  std::vector<std::string> argv;           // argv[0] is the program's path
  std::map<std::string, std::string> env;  // the child's whole environment
  std::optional<Credentials> run_as;       // drop to this account first (needs root)
  std::string cwd;                         // empty: "/"
  int stdin_fd = -1;                       // -1: /dev/null
  int stdout_fd = -1;                      // -1: inherit pgrt's
  int stderr_fd = -1;                      // -1: inherit pgrt's
};

class Child {
 public:
  static Result<Child> Spawn(const SpawnSpec& spec);

  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  bool running() const { return pid_ > 0 && !exit_status_; }
  // The raw wait status once reaped (see Reaper), else nullopt.
  std::optional<int> exit_status() const { return exit_status_; }

  // Delivers `sig` to the child (group: to its whole process group). No-op once exited.
  Status Signal(int sig) const;
  Status SignalGroup(int sig) const;

  // Records the wait status reaped for this pid by whoever reaps (the Reaper).
  void MarkExited(int wait_status) { exit_status_ = wait_status; }

  // Blocks until the child exits; reaps it directly. For use outside the event loop only.
  Result<int> Wait();

 private:
  Child(std::string name, pid_t pid) : name_(std::move(name)), pid_(pid) {}
  void KillAndReap();

  std::string name_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// "exited with code 3" / "killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int wait_status);
bool ExitedCleanly(int wait_status);

}  // namespace pgrt
