#include "process/child.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace pgrt {
namespace {

// Everything the child needs, prepared before fork: after fork in a threaded process only
// async-signal-safe calls are allowed.
struct Prepared {
  std::vector<std::string> env_strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

[[noreturn]] void ChildFail(int report_fd, const char* what) {
  int err = errno;
  // The parent reads "what\0errno" from the CLOEXEC pipe; a successful exec closes it.
  (void)!::write(report_fd, what, std::strlen(what) + 1);
  (void)!::write(report_fd, &err, sizeof err);
  ::_exit(127);
}

void RunChild(const SpawnSpec& spec, Prepared& p, pid_t parent, int report_fd) {
  // Reset signals: a shell's `cmd &` or pgrt's own signalfd mask must not leak into postgres.
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::signal(sig, SIG_DFL);
  }
  if (::setpgid(0, 0) != 0) ChildFail(report_fd, "setpgid");

  int devnull = ::open("/dev/null", O_RDWR);
  if (devnull < 0) ChildFail(report_fd, "open /dev/null");
  int in = spec.stdin_fd >= 0 ? spec.stdin_fd : devnull;
  if (::dup2(in, 0) < 0) ChildFail(report_fd, "dup2 stdin");
  if (spec.stdout_fd >= 0 && ::dup2(spec.stdout_fd, 1) < 0) ChildFail(report_fd, "dup2 stdout");
  if (spec.stderr_fd >= 0 && ::dup2(spec.stderr_fd, 2) < 0) ChildFail(report_fd, "dup2 stderr");

  // Descriptors pgrt (or whoever started it) left inheritable must not reach the child;
  // marking them close-on-exec keeps the report pipe working until exec.
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);

  if (spec.run_as && ::geteuid() == 0) {
    const Credentials& c = *spec.run_as;
    if (::setgroups(c.groups.size(), c.groups.data()) != 0) ChildFail(report_fd, "setgroups");
    if (::setgid(c.gid) != 0) ChildFail(report_fd, "setgid");
    if (::setuid(c.uid) != 0) ChildFail(report_fd, "setuid");
  }
  // After setuid, which clears it; then make sure the parent did not die in between.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(report_fd, "prctl");
  if (::getppid() != parent) ::_exit(128 + SIGKILL);

  const char* cwd = spec.cwd.empty() ? "/" : spec.cwd.c_str();
  if (::chdir(cwd) != 0) ChildFail(report_fd, "chdir");
  ::execve(p.argv[0], p.argv.data(), p.envp.data());
  ChildFail(report_fd, "exec");
}

}  // namespace

Result<Child> Child::Spawn(const SpawnSpec& spec) {
  const std::string ctx = "spawn " + spec.name;
  if (spec.argv.empty()) return Status::Error(ctx + ": empty argv");
  Prepared p;
  for (const auto& [k, v] : spec.env) p.env_strings.push_back(k + "=" + v);
  for (const auto& a : spec.argv) p.argv.push_back(const_cast<char*>(a.c_str()));
  p.argv.push_back(nullptr);
  for (auto& e : p.env_strings) p.envp.push_back(e.data());
  p.envp.push_back(nullptr);

  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return ErrnoStatus(ctx + ": pipe");
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    Status st = ErrnoStatus(ctx + ": fork");
    ::close(report[0]);
    ::close(report[1]);
    return st;
  }
  if (pid == 0) {
    ::close(report[0]);
    RunChild(spec, p, parent, report[1]);
  }
  ::close(report[1]);
  // Also set the group from the parent side, so a signal to the group right after
  // Spawn returns cannot miss it.
  ::setpgid(pid, pid);  // EACCES after exec is fine: the child set it itself

  // Read to EOF: the child's report comes in two writes, and one read may see only the first.
  char buf[128] = {};
  ssize_t n = 0;
  for (;;) {
    ssize_t got = ::read(report[0], buf + n, sizeof buf - static_cast<size_t>(n));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    n += got;
    if (static_cast<size_t>(n) == sizeof buf) break;
  }
  ::close(report[0]);
  if (n > 0) {
    // Exec or set-up failed in the child: reap it and report why.
    size_t len = ::strnlen(buf, sizeof buf);
    int err = 0;
    if (static_cast<size_t>(n) >= len + 1 + sizeof err)
      std::memcpy(&err, buf + len + 1, sizeof err);
    int ws = 0;
    ::waitpid(pid, &ws, 0);
    return ErrnoStatus(ctx + ": " + std::string(buf, len) + " " + spec.argv[0], err);
  }
  return Child(spec.name, pid);
}

Child::Child(Child&& o) noexcept
    : name_(std::move(o.name_)), pid_(std::exchange(o.pid_, -1)), exit_status_(o.exit_status_) {}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    KillAndReap();
    name_ = std::move(o.name_);
    pid_ = std::exchange(o.pid_, -1);
    exit_status_ = o.exit_status_;
  }
  return *this;
}

Child::~Child() { KillAndReap(); }

void Child::KillAndReap() {
  if (!running()) return;
  ::kill(-pid_, SIGKILL);  // the group: helpers the child started go too
  ::kill(pid_, SIGKILL);
  int ws = 0;
  while (::waitpid(pid_, &ws, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = ws;
}

Status Child::Signal(int sig) const {
  if (!running()) return Status::Ok();
  if (::kill(pid_, sig) != 0 && errno != ESRCH) return ErrnoStatus("signal " + name_);
  return Status::Ok();
}

Status Child::SignalGroup(int sig) const {
  if (!running()) return Status::Ok();
  if (::kill(-pid_, sig) != 0 && errno != ESRCH) return ErrnoStatus("signal group " + name_);
  return Status::Ok();
}

Result<int> Child::Wait() {
  if (exit_status_) return *exit_status_;
  int ws = 0;
  for (;;) {
    if (::waitpid(pid_, &ws, 0) >= 0) break;
    if (errno != EINTR) return ErrnoStatus("wait " + name_);
  }
  exit_status_ = ws;
  return ws;
}

std::string DescribeWaitStatus(int ws) {
  if (WIFEXITED(ws)) return "exited with code " + std::to_string(WEXITSTATUS(ws));
  if (WIFSIGNALED(ws)) {
    int sig = WTERMSIG(ws);
    return "killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "stopped (status " + std::to_string(ws) + ")";
}

bool ExitedCleanly(int ws) { return WIFEXITED(ws) && WEXITSTATUS(ws) == 0; }

}  // namespace pgrt
