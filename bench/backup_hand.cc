#include "backup_hand.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "process/child.h"
#include "util/fs.h"

namespace pgrt::bench {
namespace {

using std::chrono::milliseconds;

Status Chown(const std::optional<Credentials>& who, const std::string& path) {
  if (who && ::chown(path.c_str(), who->uid, who->gid) != 0) return ErrnoStatus("chown " + path);
  return Status::Ok();
}

}  // namespace

bool WaitWritable(const ConnParams& params, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto conn = PgConn::Connect(params);
    if (conn.ok()) {
      auto r = conn->Exec("SELECT pg_is_in_recovery()");
      if (r.ok() && r->rows() == 1 && r->Get(0, 0) == "f") return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

HandPgBackRest::HandPgBackRest(HandTarget target) : t_(std::move(target)) {
  conf_ = dir_.Sub("hand/pgbackrest.conf");
  passfile_ = dir_.Sub("hand/pgpass");
  lock_dir_ = dir_.Sub("hand/lock");
  log_ = dir_.Sub("hand.log");
}

Status HandPgBackRest::Prepare() {
  if (::geteuid() == 0) {
    auto who = LookupUser("postgres");
    if (!who.ok()) return who.status();
    run_as_ = *who;
  }
  for (const std::string& d : {dir_.Sub("hand"), lock_dir_}) {
    if (::mkdir(d.c_str(), 0700) != 0) return ErrnoStatus("mkdir " + d);
    PGRT_RETURN_IF_ERROR(Chown(run_as_, d), "hand");
  }
  std::ostringstream conf;
  conf << "[global]\nlog-level-file=off\nlock-path=" << lock_dir_ << "\nstart-fast=y\n\n"
       << "[pgrt]\npg1-path=" << t_.pgdata << "\npg1-port=" << t_.port
       << "\npg1-socket-path=" << t_.socket_dir << "\npg1-user=" << t_.user << "\n";
  PGRT_RETURN_IF_ERROR(WriteFileAtomic(conf_, conf.str(), 0600), "hand");
  PGRT_RETURN_IF_ERROR(
      WriteFileAtomic(passfile_,
                      "*:" + std::to_string(t_.port) + ":*:" + t_.user + ":" + t_.password + "\n",
                      0600),
      "hand");
  PGRT_RETURN_IF_ERROR(Chown(run_as_, conf_), "hand");
  return Chown(run_as_, passfile_);
}

Status HandPgBackRest::Run(const std::string& name, std::vector<std::string> argv, int timeout_s) {
  int log = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return ErrnoStatus("open " + log_);
  SpawnSpec spec;
  spec.name = name;
  spec.argv = std::move(argv);
  spec.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
              {"LANG", "C.UTF-8"},
              {"PGPASSFILE", passfile_},
              {"PGBACKREST_REPO1_PATH", t_.repo}};
  for (const auto& [k, v] : t_.pgbackrest_env) spec.env[k] = v;
  if (run_as_) {
    spec.env["HOME"] = run_as_->home;
    spec.env["USER"] = run_as_->name;
    spec.run_as = *run_as_;
  }
  spec.cwd = "/";
  spec.stdout_fd = log;
  spec.stderr_fd = log;
  auto child = Child::Spawn(spec);
  ::close(log);
  if (!child.ok()) return child.status();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  // Child::Wait blocks; a bounded wait polls the exit without reaping others' children.
  while (std::chrono::steady_clock::now() < deadline) {
    int ws = 0;
    pid_t got = ::waitpid(child->pid(), &ws, WNOHANG);
    if (got == child->pid()) {
      child->MarkExited(ws);
      if (!ExitedCleanly(ws)) return Status::Error(name + " " + DescribeWaitStatus(ws));
      return Status::Ok();
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
  return Status::Error(name + ": timed out");  // the Child's destructor kills and reaps
}

Status HandPgBackRest::Backup(const std::string& type) {
  return Run(
      "pgbackrest backup",
      {"/usr/bin/pgbackrest", "--config=" + conf_, "--stanza=pgrt", "--type=" + type, "backup"},
      3600);
}

Status HandPgBackRest::Restore() {
  ++restores_;
  restore_dir_ = dir_.Sub("restore-" + std::to_string(restores_));
  restore_sock_ = dir_.Sub("sock-" + std::to_string(restores_));
  restore_port_ = testing::FreePort();
  for (const std::string& d : {restore_dir_, restore_sock_}) {
    if (::mkdir(d.c_str(), 0700) != 0) return ErrnoStatus("mkdir " + d);
    PGRT_RETURN_IF_ERROR(Chown(run_as_, d), "hand restore");
  }
  PGRT_RETURN_IF_ERROR(Run("pgbackrest restore",
                           {"/usr/bin/pgbackrest", "--config=" + conf_, "--stanza=pgrt",
                            "--pg1-path=" + restore_dir_, "restore"},
                           3600),
                       "hand restore");
  const std::string opts =
      "-c port=" + std::to_string(restore_port_) +
      " -c listen_addresses=127.0.0.1 -c unix_socket_directories=" + restore_sock_ +
      " -c archive_mode=off";
  PGRT_RETURN_IF_ERROR(Run("pg_ctl start",
                           {JoinPath(testing::PgBinDir(), "pg_ctl"), "start", "-w", "-t", "3600",
                            "-D", restore_dir_, "-l", dir_.Sub("hand/restore.log"), "-o", opts},
                           3600),
                       "hand restore");
  ConnParams params = {{"host", "127.0.0.1"},  {"port", std::to_string(restore_port_)},
                       {"user", t_.user},      {"password", t_.password},
                       {"dbname", "postgres"}, {"connect_timeout", "5"}};
  if (!WaitWritable(params, milliseconds(3600 * 1000)))
    return Status::Error("hand restore: never out of recovery");
  return Status::Ok();
}

Status HandPgBackRest::StopRestored() {
  Status st = Run("pg_ctl stop",
                  {JoinPath(testing::PgBinDir(), "pg_ctl"), "stop", "-w", "-m", "immediate", "-D",
                   restore_dir_},
                  60);
  Status rm = RemoveTree(restore_dir_);
  return st.ok() ? rm : st;
}

std::string HandPgBackRest::Log() const {
  std::string out;
  for (const std::string& path : {log_, dir_.Sub("hand/restore.log")}) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    out += "== " + path + "\n" + ss.str();
  }
  return out;
}

}  // namespace pgrt::bench
