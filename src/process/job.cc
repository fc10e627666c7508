#include "process/job.h"

#include <fcntl.h>
#include <signal.h>

#include "process/command.h"
#include "util/fs.h"
#include "util/unique_fd.h"

namespace pgrt {
namespace {

std::string ReadOrEmpty(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : std::string();  // no output file: the error has less detail, no more
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

ChildJob::ChildJob(EventLoop& loop, std::string name, std::string output_prefix,
                   std::vector<JobStep> steps, Done done)
    : loop_(loop),
      name_(std::move(name)),
      prefix_(std::move(output_prefix)),
      steps_(std::move(steps)),
      done_(std::move(done)) {}

ChildJob::~ChildJob() {
  if (kill_timer_) loop_.CancelTimer(kill_timer_);
  if (timeout_timer_) loop_.CancelTimer(timeout_timer_);
}

Status ChildJob::Start(Millis timeout) {
  if (steps_.empty()) return Status::Error(name_ + ": nothing to run");
  index_ = 0;
  PGRT_RETURN_IF_ERROR(SpawnCurrent(), name_);
  running_ = true;
  if (timeout.count() > 0)
    timeout_timer_ = loop_.AddTimer(timeout, [this] {
      timeout_timer_ = 0;
      Stop(Millis(5000), "timed out");
    });
  return Status::Ok();
}

Status ChildJob::SpawnCurrent() {
  SpawnSpec spec = steps_[index_].spec;
  UniqueFd out(
      ::open((prefix_ + ".stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  UniqueFd err(
      ::open((prefix_ + ".stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out || !err) return ErrnoStatus("open " + prefix_ + ".stdout/.stderr");
  spec.stdout_fd = out.get();
  spec.stderr_fd = err.get();
  auto child = Child::Spawn(spec);  // the fds are dup'ed into the child; ours close here
  if (!child.ok()) return child.status();
  child_.emplace(std::move(*child));
  return Status::Ok();
}

std::string ChildJob::Describe(int wait_status) const {
  std::string err = Trim(ReadOrEmpty(prefix_ + ".stderr"));
  if (err.empty()) err = Trim(ReadOrEmpty(prefix_ + ".stdout"));
  std::string out = steps_[index_].spec.name + " " + DescribeWaitStatus(wait_status);
  return err.empty() ? out : out + ": " + Tail(err, 1500);
}

bool ChildJob::OnChildExit(pid_t pid, int wait_status) {
  if (!child_ || child_->pid() != pid || !child_->running()) return false;
  child_->MarkExited(wait_status);
  ::kill(-pid, SIGKILL);  // helpers left in the step's group (pgBackRest's workers) go too
  if (!stop_reason_.empty()) {
    Finish(Status::Error(name_ + ": " + stop_reason_));
    return true;
  }
  if (!ExitedCleanly(wait_status)) {
    Finish(Status::Error(Describe(wait_status)));
    return true;
  }
  if (const auto& after = steps_[index_].after) {
    Status st = after(ReadOrEmpty(prefix_ + ".stdout"));
    if (!st.ok()) {
      Finish(st.Wrap(steps_[index_].spec.name));
      return true;
    }
  }
  if (++index_ == steps_.size()) {
    Finish(Status::Ok());
    return true;
  }
  if (Status st = SpawnCurrent(); !st.ok()) Finish(st.Wrap(name_));
  return true;
}

void ChildJob::Stop(Millis grace, const std::string& why) {
  if (!running_) return;
  if (stop_reason_.empty()) stop_reason_ = why;
  if (!child_ || !child_->running()) return;
  if (grace.count() == 0) {                      // immediate, or a second, harder request
    child_->SignalGroup(SIGKILL).IgnoreError();  // the exit arrives through the reaper
    return;
  }
  if (kill_timer_) return;                     // already asked to stop
  child_->SignalGroup(SIGTERM).IgnoreError();  // ESRCH: it is exiting; the reaper tells us
  kill_timer_ = loop_.AddTimer(grace, [this] {
    kill_timer_ = 0;
    if (child_ && child_->running()) child_->SignalGroup(SIGKILL).IgnoreError();
  });
}

void ChildJob::Finish(const Status& st) {
  running_ = false;
  if (kill_timer_) loop_.CancelTimer(kill_timer_);
  if (timeout_timer_) loop_.CancelTimer(timeout_timer_);
  kill_timer_ = timeout_timer_ = 0;
  Done done = std::move(done_);
  done_ = nullptr;
  if (done) done(st);  // last: the owner may start another job from here
}

}  // namespace pgrt
