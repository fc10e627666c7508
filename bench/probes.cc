#include "probes.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness/harness.h"
#include "util/unique_fd.h"

namespace pgrt::bench {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IsZombieOrGone(pid_t pid) {
  std::string status = Slurp("/proc/" + std::to_string(pid) + "/status");
  return status.empty() || status.find("\nState:\tZ") != std::string::npos ||
         status.find("\nState:\tX") != std::string::npos;
}

// "Field:   123 kB" in a /proc file; -1 when absent.
long FieldKb(const std::string& text, const std::string& field) {
  std::istringstream in(text);
  std::string line;
  const std::string key = field + ":";
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    std::istringstream fields(line.substr(key.size()));
    long kb = -1;
    fields >> kb;
    return kb;
  }
  return -1;
}

}  // namespace

bool WaitForQuery(const ConnParams& params, milliseconds timeout, milliseconds step) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto conn = PgConn::Connect(params);
    if (conn.ok() && conn->Exec("SELECT 1").ok()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

bool WaitProcessGone(pid_t pid, milliseconds timeout) {
  if (pid <= 0) return true;
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd) {
    if (errno == ESRCH) return true;
    // No pidfd (old kernel): fall back to watching /proc every millisecond.
    const auto deadline = Clock::now() + timeout;
    while (!IsZombieOrGone(pid)) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(milliseconds(1));
    }
    return true;
  }
  // A pidfd turns readable when the process exits, whether or not anyone reaped it.
  pollfd p{fd.get(), POLLIN, 0};
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left < 0) left = 0;
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return IsZombieOrGone(pid);
  }
}

long StatusFieldKb(pid_t pid, const std::string& field) {
  return FieldKb(Slurp("/proc/" + std::to_string(pid) + "/status"), field);
}

long PssKb(pid_t pid) {
  return FieldKb(Slurp("/proc/" + std::to_string(pid) + "/smaps_rollup"), "Pss");
}

pid_t PostmasterPidOf(const std::string& datadir) {
  std::ifstream in(datadir + "/postmaster.pid");
  pid_t pid = 0;
  in >> pid;
  return pid;
}

// One bounded pgbench run; TPS, or -1 (the output goes to errors).
double Pgbench(int port, const std::string& password, const std::vector<std::string>& extra,
               int seconds, std::vector<std::string>& errors, const std::string& host) {
  std::vector<std::string> argv = {"/usr/bin/timeout",
                                   "-k",
                                   "5",
                                   std::to_string(seconds + 60),
                                   "/usr/lib/postgresql/15/bin/pgbench",
                                   "-n",
                                   "-T",
                                   std::to_string(seconds),
                                   "-c",
                                   "8",
                                   "-j",
                                   "2",
                                   "-h",
                                   host,
                                   "-p",
                                   std::to_string(port),
                                   "-U",
                                   "app"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("appdb");
  auto out = testing::RunCommand(argv, {{"PGPASSWORD", password}, {"PGCONNECT_TIMEOUT", "10"}});
  size_t at = out.output.find("tps = ");
  if (out.exit_code == 0 && at != std::string::npos) return std::atof(out.output.c_str() + at + 6);
  errors.push_back("pgbench -h " + host + " -p " + std::to_string(port) + ": " +
                   out.output.substr(0, 2000));
  return -1;
}

}  // namespace pgrt::bench
