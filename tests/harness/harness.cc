#include "harness/harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "util/fs.h"

namespace pgrt::testing {

namespace {

// Where temporary directories go: PGRT_TEST_TMPDIR when it names a directory with room for a
// few clusters (tmpfs makes removing a cluster ~100x cheaper than a disk mounted with
// `discard`), else /tmp.
std::string TempRoot() {
  const char* root = ::getenv("PGRT_TEST_TMPDIR");
  if (root == nullptr || *root == '\0') return "/tmp";
  struct statvfs fs {};
  constexpr unsigned long long kNeeded = 1ULL << 30;
  if (::statvfs(root, &fs) != 0 ||
      static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize < kNeeded)
    return "/tmp";
  return root;
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = TempRoot() + "/pgrt-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
  ::chmod(path_.c_str(), 0755);  // postgres (another account) must reach PGDATA inside
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string PgrtBinary() {
  const char* env = ::getenv("PGRT_TEST_BINARY");
  return env ? env : PGRT_BINARY;
}

std::string PgBinDir() { return PGRT_DEFAULT_PG_BINDIR; }

HttpResponse HttpRequest(int port, const std::string& method, const std::string& path,
                         const std::string& token, const std::string& body) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(2, 0);
  cli.set_read_timeout(60, 0);  // a rewind answers once the node runs as a replica
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  httplib::Result r = [&] {
    if (method == "POST") return cli.Post(path.c_str(), headers, body, "application/json");
    if (method == "DELETE") return cli.Delete(path.c_str(), headers);
    if (method == "HEAD") return cli.Head(path.c_str(), headers);
    if (method == "OPTIONS") return cli.Options(path.c_str(), headers);
    return cli.Get(path.c_str(), headers);
  }();
  if (!r) return {};
  return {r->status, r->body};
}

HttpResponse HttpGet(int port, const std::string& path, const std::string& token) {
  return HttpRequest(port, "GET", path, token);
}

PgrtNode::PgrtNode(const Env& extra) {
  // Two ports that were free a moment ago; the kernel may hand out the same one twice.
  const int pg_port = FreePort();
  int api_port = FreePort();
  for (int i = 0; i < 20 && api_port == pg_port; ++i) api_port = FreePort();
  env_ = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"POSTGRES_USER", "app"},
      {"POSTGRES_PASSWORD", "app-secret-pw"},
      {"POSTGRES_DB", "appdb"},
      {"PGDATA", dir_.Sub("data")},
      {"PGRT_SOCKET_DIR", dir_.Sub("sock")},
      {"POSTGRES_PORT", std::to_string(pg_port)},
      {"POSTGRES_LISTEN_ADDRESSES", "127.0.0.1"},
      {"POSTGRES_SHARED_BUFFERS", "32MB"},
      {"PGRT_API_ADDRESS", "127.0.0.1"},
      {"PGRT_API_PORT", std::to_string(api_port)},
      {"POSTGRES_INITDB_SCRIPTS", dir_.Sub("initdb.d")},
  };
  for (const auto& [k, v] : extra) env_[k] = v;
}

PgrtNode::~PgrtNode() {
  if (running()) Stop(SIGTERM, milliseconds(20000));
  // Child's destructor SIGKILLs and reaps whatever is left.
}

void PgrtNode::Start(const std::vector<std::string>& args) {
  std::string log = dir_.Sub("pgrt.log");
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  SpawnSpec spec;
  spec.name = "pgrt";
  spec.argv = launcher_;
  spec.argv.push_back(PgrtBinary());
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = env_;
  spec.stdout_fd = fd;
  spec.stderr_fd = fd;
  auto child = Child::Spawn(spec);
  ::close(fd);
  if (!child.ok()) throw std::runtime_error(child.status().message());
  child_.emplace(std::move(*child));
}

bool PgrtNode::running() {
  if (!child_ || !child_->running()) return false;
  int ws = 0;
  if (::waitpid(child_->pid(), &ws, WNOHANG) == child_->pid()) child_->MarkExited(ws);
  return child_->running();
}

pid_t PgrtNode::pid() const { return child_ ? child_->pid() : 0; }

bool PgrtNode::WaitHealthy(milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return false;
    if (Get("/__opr/health").status == 200) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return false;
}

std::optional<int> PgrtNode::WaitExit(milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return child_ ? child_->exit_status() : std::nullopt;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return std::nullopt;
}

std::optional<int> PgrtNode::Stop(int sig, milliseconds timeout) {
  if (!running()) return child_ ? child_->exit_status() : std::nullopt;
  child_->Signal(sig).IgnoreError();
  return WaitExit(timeout);
}

pid_t PgrtNode::PostmasterPid() const {
  std::ifstream in(pgdata() + "/postmaster.pid");
  pid_t pid = 0;
  in >> pid;
  return pid;
}

std::string PgrtNode::Log() const {
  std::ifstream in(dir_.Sub("pgrt.log"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string PgrtNode::password() const {
  auto it = env_.find("POSTGRES_PASSWORD");
  if (it != env_.end()) return it->second;
  auto file = env_.find("POSTGRES_PASSWORD_FILE");
  std::string pw = file == env_.end() ? "" : ReadFileOrEmpty(file->second);
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
  return pw;
}

size_t PgrtNode::LogSize() const {
  struct stat st {};
  return ::stat(dir_.Sub("pgrt.log").c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

std::string PgrtNode::LogSince(size_t mark) const {
  std::string log = Log();
  return mark < log.size() ? log.substr(mark) : "";
}

ConnParams PgrtNode::Conn() const {
  return {{"host", "127.0.0.1"},
          {"port", env_.at("POSTGRES_PORT")},
          {"user", env_.at("POSTGRES_USER")},
          {"password", password()},
          {"dbname", env_.at("POSTGRES_DB")},
          {"connect_timeout", "5"}};
}

std::string QueryFirstValue(const ConnParams& params, const std::string& sql, std::string* error) {
  auto conn = PgConn::Connect(params);
  if (!conn.ok()) {
    if (error) *error = conn.status().message();
    return "";
  }
  auto r = conn->Exec(sql);
  if (!r.ok()) {
    if (error) *error = r.status().message();
    return "";
  }
  if (r->rows() == 0 || r->cols() == 0) return "";
  return r->Get(0, 0);
}

std::string PgrtNode::Query(const std::string& sql, std::string* error) const {
  return QueryFirstValue(Conn(), sql, error);
}

CommandOutput RunPgrt(const std::vector<std::string>& args, const Env& env) {
  std::vector<std::string> argv = {PgrtBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, env);
}

CommandOutput RunCommand(const std::vector<std::string>& argv, const Env& env) {
  TempDir tmp;
  std::string out = tmp.Sub("out");
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  SpawnSpec spec;
  spec.name = argv.empty() ? "" : argv[0];
  spec.argv = argv;
  spec.env = env;
  spec.stdout_fd = fd;
  spec.stderr_fd = fd;
  auto child = Child::Spawn(spec);
  ::close(fd);
  CommandOutput result;
  if (!child.ok()) return result;
  auto ws = child->Wait();
  if (ws.ok() && WIFEXITED(*ws)) result.exit_code = WEXITSTATUS(*ws);
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  result.output = ss.str();
  return result;
}

int ExitCode(const std::optional<int>& wait_status) {
  if (!wait_status) return -1;
  if (WIFEXITED(*wait_status)) return WEXITSTATUS(*wait_status);
  if (WIFSIGNALED(*wait_status)) return 128 + WTERMSIG(*wait_status);
  return -1;
}

bool WaitUntil(const std::function<bool()>& done, milliseconds timeout, milliseconds step) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileOrDie(const std::string& path, const std::string& content, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("write " + path);
    out << content;
    if (!out.flush()) throw std::runtime_error("write " + path);
  }
  if (::chmod(path.c_str(), mode) != 0) throw std::runtime_error("chmod " + path);
}

std::optional<ProcStat> ReadProcStat(pid_t pid) {
  std::string text = ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/stat");
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses; it ends at the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(text.substr(close + 1));
  ProcStat st;
  st.pid = pid;
  if (!(rest >> st.state >> st.ppid)) return std::nullopt;
  return st;
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  auto st = ReadProcStat(pid);
  return st.has_value() && st->state != 'Z' && st->state != 'X';
}

bool NoneAlive(const std::vector<pid_t>& pids) {
  for (pid_t pid : pids)
    if (ProcessAlive(pid)) return false;
  return true;
}

pid_t BackendPid(PgConn& conn) {
  auto r = conn.Exec("SELECT pg_backend_pid()");
  return r.ok() && r->rows() == 1 ? static_cast<pid_t>(std::stoi(r->Get(0, 0))) : 0;
}

std::vector<ProcStat> AllProcesses() {
  std::vector<ProcStat> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || pid <= 0) continue;
    if (auto st = ReadProcStat(static_cast<pid_t>(pid))) out.push_back(*st);
  }
  ::closedir(d);
  return out;
}

std::vector<pid_t> DescendantsOf(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  for (const ProcStat& p : AllProcesses()) children.emplace(p.ppid, p.pid);
  std::vector<pid_t> out;
  std::vector<pid_t> todo = {root};
  while (!todo.empty()) {
    pid_t parent = todo.back();
    todo.pop_back();
    auto [lo, hi] = children.equal_range(parent);
    for (auto it = lo; it != hi; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

std::string ReadProcFile(pid_t pid, const std::string& name) {
  return ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/" + name);
}

long ProcessUid(pid_t pid) {
  std::istringstream in(ReadProcFile(pid, "status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Uid:", 0) == 0) {
      std::istringstream fields(line.substr(4));
      long uid = -1;
      fields >> uid;
      return uid;
    }
  }
  return -1;
}

void MakeCertificate(PgrtNode& node) {
  const std::string cert = node.dir() + "/server.crt";
  const std::string key = node.dir() + "/server.key";
  auto gen = RunCommand({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost"},
                        {{"PATH", "/usr/bin:/bin"}, {"HOME", node.dir()}});
  if (gen.exit_code != 0) throw std::runtime_error("openssl req: " + gen.output);
  node.env()["POSTGRES_TLS_CERT_FILE"] = cert;
  node.env()["POSTGRES_TLS_KEY_FILE"] = key;
}

}  // namespace pgrt::testing
