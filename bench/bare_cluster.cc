#include "bare_cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "probes.h"
#include "process/child.h"
#include "util/fs.h"

namespace pgrt::bench {
namespace {

Status Chown(const std::optional<Credentials>& who, const std::string& path) {
  if (who && ::chown(path.c_str(), who->uid, who->gid) != 0) return ErrnoStatus("chown " + path);
  return Status::Ok();
}

}  // namespace

BareCluster::BareCluster(BareSettings settings)
    : settings_(std::move(settings)), port_(testing::FreePort()) {
  root_ = dir_.Sub("bare");
  datadir_ = root_ + "/data";
  socket_dir_ = root_ + "/sock";
  pwfile_ = root_ + "/pwfile";
  server_log_ = root_ + "/postgres.log";
  tool_log_ = dir_.Sub("tools.log");
}

BareCluster::~BareCluster() {
  pid_t pid = PostmasterPid();
  if (pid <= 0 || ::kill(pid, 0) != 0) return;
  // Left running (a failed run): immediate shutdown, then SIGKILL if it lingers.
  ::kill(pid, SIGQUIT);
  if (!WaitProcessGone(pid, milliseconds(5000))) ::kill(pid, SIGKILL);
  WaitProcessGone(pid, milliseconds(5000));
}

Status BareCluster::Prepare() {
  if (::geteuid() == 0) {
    auto who = LookupUser("postgres");
    if (!who.ok()) return who.status().Wrap("bare cluster");
    run_as_ = *who;
  }
  for (const std::string& d : {root_, socket_dir_}) {
    if (::mkdir(d.c_str(), 0700) != 0) return ErrnoStatus("mkdir " + d);
    PGRT_RETURN_IF_ERROR(Chown(run_as_, d), "bare cluster");
  }
  PGRT_RETURN_IF_ERROR(WriteFileAtomic(pwfile_, settings_.password + "\n", 0600), "bare cluster");
  return Chown(run_as_, pwfile_);
}

Result<Child> SpawnPgTool(const std::string& tool, const std::vector<std::string>& args,
                          const std::optional<Credentials>& run_as, const std::string& cwd,
                          const std::string& log_path, const testing::Env& extra_env) {
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return ErrnoStatus("open " + log_path);
  SpawnSpec spec;
  spec.name = tool;
  spec.argv = {JoinPath(testing::PgBinDir(), tool)};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"LANG", "C.UTF-8"}};
  if (run_as) {
    spec.env["HOME"] = run_as->home;
    spec.env["USER"] = spec.env["LOGNAME"] = run_as->name;
    spec.run_as = *run_as;
  }
  for (const auto& [k, v] : extra_env) spec.env[k] = v;
  spec.cwd = cwd;
  spec.stdout_fd = log;
  spec.stderr_fd = log;
  auto child = Child::Spawn(spec);
  ::close(log);
  return child;
}

Status RunPgTool(const std::string& tool, const std::vector<std::string>& args,
                 const std::optional<Credentials>& run_as, const std::string& cwd,
                 const std::string& log_path, const testing::Env& extra_env, int timeout_s) {
  auto child = SpawnPgTool(tool, args, run_as, cwd, log_path, extra_env);
  if (!child.ok()) return child.status();
  if (!WaitProcessGone(child->pid(), milliseconds(timeout_s * 1000LL)))
    return Status::Error(tool + ": timed out");  // the Child's destructor kills and reaps
  auto ws = child->Wait();
  if (!ws.ok()) return ws.status();
  if (!ExitedCleanly(*ws)) return Status::Error(tool + " " + DescribeWaitStatus(*ws));
  return Status::Ok();
}

Status BareCluster::RunTool(const std::string& tool, std::vector<std::string> args,
                            const testing::Env& extra_env, int timeout_s) {
  return RunPgTool(tool, args, run_as_, root_, tool_log_, extra_env, timeout_s);
}

Status BareCluster::Initdb() {
  return RunTool("initdb", {"-D", datadir_, "--username=" + settings_.user, "--pwfile=" + pwfile_,
                            "--encoding=UTF8", "--auth-local=trust", "--auth-host=scram-sha-256",
                            "--no-instructions"});
}

std::vector<std::string> BareCluster::ServerSettings() const {
  return {"shared_buffers=" + settings_.shared_buffers, "port=" + std::to_string(port_),
          "listen_addresses=127.0.0.1", "unix_socket_directories=" + socket_dir_};
}

Status BareCluster::Start() {
  std::string opts;
  for (const std::string& setting : ServerSettings())
    opts += (opts.empty() ? "-c " : " -c ") + setting;
  return RunTool("pg_ctl",
                 {"start", "-w", "-t", "60", "-D", datadir_, "-l", server_log_, "-o", opts});
}

Result<Child> BareCluster::SpawnPostgres() {
  std::vector<std::string> args = {"-D", datadir_};
  for (const std::string& setting : ServerSettings()) {
    args.push_back("-c");
    args.push_back(setting);
  }
  return SpawnPgTool("postgres", args, run_as_, root_, server_log_);
}

Status BareCluster::Stop() {
  return RunTool("pg_ctl", {"stop", "-w", "-t", "60", "-m", "fast", "-D", datadir_});
}

Status BareCluster::CreateDb() {
  return RunTool("createdb", {"-h", socket_dir_, "-p", std::to_string(port_), "-U", settings_.user,
                              settings_.db});
}

Status BareCluster::QueryOnce() {
  return RunTool("psql",
                 {"-X", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", settings_.user,
                  "-d", settings_.db, "-c", "SELECT 1"},
                 {{"PGPASSWORD", settings_.password}, {"PGCONNECT_TIMEOUT", "5"}});
}

ConnParams BareCluster::Conn() const {
  return {{"host", "127.0.0.1"},    {"port", std::to_string(port_)},
          {"user", settings_.user}, {"password", settings_.password},
          {"dbname", settings_.db}, {"connect_timeout", "5"}};
}

pid_t BareCluster::PostmasterPid() const { return PostmasterPidOf(datadir_); }

std::string BareCluster::ServerLog() const {
  std::ifstream in(server_log_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string BareCluster::Log() const {
  std::string out;
  for (const std::string& path : {tool_log_, server_log_}) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    out += "== " + path + "\n" + ss.str();
  }
  return out;
}

}  // namespace pgrt::bench
