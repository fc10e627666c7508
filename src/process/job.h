// ChildJob: a job made of child processes run one after another on the event loop
// (stanza-create then backup then info; pg_dumpall then one pg_dump per database). Each
// step's exit arrives as an event (OnChildExit, from the loop's SIGCHLD handler); nothing
// waits on the loop. Each step writes to two files (<prefix>.stdout/.stderr, truncated per
// step), so a chatty tool cannot fill a pipe nobody reads, and errors quote their tail.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "process/child.h"
#include "process/event_loop.h"

namespace pgrt {

struct JobStep {
  SpawnSpec spec;  // stdout/stderr are set by the job
  // Runs after a clean exit with the step's stdout; an error ends the job. May be empty.
  std::function<Status(const std::string& stdout_text)> after;
};

class ChildJob {
 public:
  // `done` runs on the loop once, when the last step finished or one failed or the job was
  // stopped. The job object stays valid (not running) after that.
  using Done = std::function<void(const Status&)>;

  ChildJob(EventLoop& loop, std::string name, std::string output_prefix, std::vector<JobStep> steps,
           Done done);
  ChildJob(const ChildJob&) = delete;
  ChildJob& operator=(const ChildJob&) = delete;
  ~ChildJob();  // a step still running is killed and reaped (Child's destructor)

  // Spawns the first step. `timeout` (0: none) stops the job when it runs longer.
  Status Start(Millis timeout = Millis(0));
  // Called with every reaped child; true when it was this job's.
  bool OnChildExit(pid_t pid, int wait_status);
  // SIGTERM to the running step's process group now, SIGKILL after `grace`; the job ends
  // with an error once the step has exited.
  void Stop(Millis grace, const std::string& why);
  bool running() const { return running_; }
  const std::string& name() const { return name_; }

 private:
  Status SpawnCurrent();
  void Finish(const Status& st);
  std::string Describe(int wait_status) const;

  EventLoop& loop_;
  std::string name_;
  std::string prefix_;
  std::vector<JobStep> steps_;
  Done done_;
  size_t index_ = 0;
  bool running_ = false;
  std::string stop_reason_;
  std::optional<Child> child_;
  EventLoop::TimerId kill_timer_ = 0;
  EventLoop::TimerId timeout_timer_ = 0;
};

}  // namespace pgrt
