// Test harness: temporary directories, free loopback ports, and a real `pgrt run` process
// with its own PGDATA, sockets and API, cleaned up by PID when the test ends.
// Shared by the integration tests and the benchmarks.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pg/connection.h"
#include "process/child.h"

namespace pgrt::testing {

using Env = std::map<std::string, std::string>;
using std::chrono::milliseconds;

// A directory under /tmp (or under $PGRT_TEST_TMPDIR when that has room, e.g. a tmpfs),
// traversable by the postgres account, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
int FreePort();

// The path of the pgrt binary under test.
std::string PgrtBinary();
std::string PgBinDir();

struct HttpResponse {
  int status = 0;  // 0: no answer
  std::string body;
};
HttpResponse HttpGet(int port, const std::string& path, const std::string& token = "");
HttpResponse HttpRequest(int port, const std::string& method, const std::string& path,
                         const std::string& token = "", const std::string& body = "");

// One `pgrt run` under test. Its stdout+stderr go to a log file in the node's directory.
class PgrtNode {
 public:
  // A node with its own dir, ports, and a minimal valid environment (user, password, db,
  // PGDATA, ports, socket dir, loopback listen addresses). `extra` is merged over it.
  explicit PgrtNode(const Env& extra = {});
  ~PgrtNode();
  PgrtNode(const PgrtNode&) = delete;
  PgrtNode& operator=(const PgrtNode&) = delete;

  Env& env() { return env_; }
  const Env& env() const { return env_; }
  const std::string& dir() const { return dir_.path(); }
  std::string pgdata() const { return env_.at("PGDATA"); }
  int pg_port() const { return std::stoi(env_.at("POSTGRES_PORT")); }
  int api_port() const { return std::stoi(env_.at("PGRT_API_PORT")); }
  // POSTGRES_PASSWORD, else the content of POSTGRES_PASSWORD_FILE without trailing newlines.
  std::string password() const;

  // Starts `pgrt <args>` (default: run) with the node's environment, behind the launcher
  // when one is set.
  void Start(const std::vector<std::string>& args = {"run"});
  // Words put before pgrt's own argv, e.g. {"/usr/sbin/ip", "netns", "exec", "ns1"}: the
  // launcher must exec pgrt in its own process (pid() stays pgrt's).
  void set_launcher(std::vector<std::string> launcher) { launcher_ = std::move(launcher); }
  // Until /__opr/health answers 200; false on timeout or when pgrt exited.
  bool WaitHealthy(milliseconds timeout = milliseconds(30000));
  // Sends `sig` and waits for the exit; returns the raw wait status (nullopt: timeout).
  std::optional<int> Stop(int sig = 15, milliseconds timeout = milliseconds(30000));
  // Waits for pgrt to exit by itself.
  std::optional<int> WaitExit(milliseconds timeout);
  bool running();
  pid_t pid() const;
  // The postmaster's pid as postgres wrote it (0 when none).
  pid_t PostmasterPid() const;

  std::string Log() const;
  // The log file's size now, and what was appended after such a mark (for a restart's
  // own lines: the log file is kept across starts).
  size_t LogSize() const;
  std::string LogSince(size_t mark) const;
  HttpResponse Get(const std::string& path) const { return HttpGet(api_port(), path); }

  // libpq parameters for a TCP connection as the superuser (POSTGRES_USER) to POSTGRES_DB.
  ConnParams Conn() const;
  // Runs one query and returns the first column of the first row ("" on error, with
  // the error in *error when given).
  std::string Query(const std::string& sql, std::string* error = nullptr) const;

 private:
  TempDir dir_;
  Env env_;
  std::vector<std::string> launcher_;
  std::optional<Child> child_;
};

// Runs `pgrt <args>` to completion with `env` (no inherited environment except PATH);
// returns exit code and combined output.
struct CommandOutput {
  int exit_code = -1;
  std::string output;
};
CommandOutput RunPgrt(const std::vector<std::string>& args, const Env& env);

// Runs one query on a new connection with `params` and returns the first column of the
// first row ("" on error, with the error in *error when given).
std::string QueryFirstValue(const ConnParams& params, const std::string& sql,
                            std::string* error = nullptr);

// Runs any program (argv[0] a path) to completion with `env`; exit code and combined output.
CommandOutput RunCommand(const std::vector<std::string>& argv, const Env& env = {});

// A wait status as a shell shows it: the exit code, 128+N when killed by signal N,
// -1 for no status (a timeout).
int ExitCode(const std::optional<int>& wait_status);

// Polls `done` every `step` until it holds; false when `timeout` passed first.
bool WaitUntil(const std::function<bool()>& done, milliseconds timeout,
               milliseconds step = milliseconds(10));

// Whole-file helpers for test fixtures: "" when the file cannot be read; a failed write
// throws (gtest reports it as the failure of the test).
std::string ReadFileOrEmpty(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& content, mode_t mode = 0644);

// What /proc says about processes. A zombie is not alive.
struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';  // R, S, D, Z, ...
};
std::optional<ProcStat> ReadProcStat(pid_t pid);
bool ProcessAlive(pid_t pid);
// True when none of `pids` is alive.
bool NoneAlive(const std::vector<pid_t>& pids);
// The pid of the backend serving `conn` (pg_backend_pid()); 0 on error.
pid_t BackendPid(PgConn& conn);
std::vector<ProcStat> AllProcesses();
// Every process whose chain of parents leads to `root` (not `root` itself).
std::vector<pid_t> DescendantsOf(pid_t root);
// /proc/PID/<name> (cmdline, environ, status, comm ...); "" when unreadable.
std::string ReadProcFile(pid_t pid, const std::string& name);
// The real uid of a live process (from /proc/PID/status); -1 when unknown.
long ProcessUid(pid_t pid);

// A self-signed certificate and key (openssl) in the node's directory, set as its TLS files.
void MakeCertificate(PgrtNode& node);

}  // namespace pgrt::testing
