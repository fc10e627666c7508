#include "ha_clusters.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "probes.h"

namespace pgrt::bench {
namespace {

using testing::HttpGet;
using testing::HttpRequest;
using testing::milliseconds;

constexpr char kApiToken[] = "ha-bench-token";
constexpr char kReplicationPassword[] = "ha-bench-repl-pw";
constexpr char kPatroniSuperPassword[] = "ha-bench-super-pw";
constexpr milliseconds kExitTimeout{30000};

Result<Child> SpawnLogged(SpawnSpec spec, const std::string& log) {
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Error("cannot open " + log);
  spec.stdout_fd = fd;
  spec.stderr_fd = fd;
  auto child = Child::Spawn(spec);
  ::close(fd);
  return child;
}

std::string RandomScope(const char* prefix) {
  std::random_device rd;
  return prefix + std::to_string(rd() % 1000000);
}

// A pgrt node per index, PGRT_HA=etcd, the way tests/integration/ha_helpers.h runs them.
class PgrtCluster : public HaCluster {
 public:
  PgrtCluster(const HaSetup& setup, const Etcd& etcd) {
    const std::string scope = RandomScope("b");
    for (int i = 0; i < 3; ++i) {
      testing::Env env = {{"PGRT_HA", "etcd"},
                          {"PGRT_ETCD_ENDPOINTS", "http://" + etcd.endpoint()},
                          {"PGRT_CLUSTER_NAME", scope},
                          {"PGRT_NODE_NAME", Name(i)},
                          {"PGRT_ADVERTISE_HOST", "127.0.0.1"},
                          {"PGRT_HA_TTL", std::to_string(setup.ttl)},
                          {"POSTGRES_REPLICATION_PASSWORD", kReplicationPassword},
                          {"PGRT_API_TOKEN", kApiToken}};
      nodes_.push_back(std::make_unique<testing::PgrtNode>(env));
    }
  }
  Status StartAll() override {
    for (auto& n : nodes_) n->Start();
    return Status::Ok();
  }
  std::string Name(int i) const override { return "n" + std::to_string(i + 1); }
  int api_port(int i) const override { return nodes_[i]->api_port(); }
  int pg_port(int i) const override { return nodes_[i]->pg_port(); }
  pid_t ManagerPid(int i) const override { return nodes_[i]->pid(); }
  pid_t PostmasterPid(int i) const override { return nodes_[i]->PostmasterPid(); }
  Status Restart(int i) override {
    nodes_[i]->Start();
    return Status::Ok();
  }
  void Reap(int i) override {
    if (!nodes_[i]->WaitExit(kExitTimeout)) nodes_[i]->Stop(SIGKILL, kExitTimeout);
  }
  int Switchover(int leader, int candidate) override {
    return HttpRequest(api_port(leader), "POST", "/switchover", kApiToken,
                       "{\"candidate\":\"" + Name(candidate) + "\"}")
        .status;
  }
  testing::Env ConnBase() const override {
    testing::Env c = nodes_[0]->Conn();
    c.erase("host");
    c.erase("port");
    return c;
  }
  std::string Logs() const override {
    std::string out;
    for (int i = 0; i < 3; ++i) out += "---- " + Name(i) + " ----\n" + nodes_[i]->Log();
    return out;
  }

 private:
  std::vector<std::unique_ptr<testing::PgrtNode>> nodes_;
};

// One Patroni node: its YAML, data directory and log in a temp dir owned by `postgres`, the
// manager (python3 /usr/bin/patroni) run as `postgres`, postgres from Debian's bin dir.
struct PatroniNode {
  testing::TempDir dir;
  int api_port = testing::FreePort();
  int pg_port = testing::FreePort();
  std::optional<Child> child;
  std::string config() const { return dir.Sub("patroni.yml"); }
  std::string data() const { return dir.Sub("data"); }
  std::string log() const { return dir.Sub("patroni.log"); }
};

class PatroniCluster : public HaCluster {
 public:
  PatroniCluster(const HaSetup& setup, const Etcd& etcd) : setup_(setup), etcd_(etcd) {
    scope_ = RandomScope("p");
    for (int i = 0; i < 3; ++i) nodes_.push_back(std::make_unique<PatroniNode>());
  }
  ~PatroniCluster() override {
    // SIGTERM: Patroni stops its postgres (fast) and releases the leader key; a postmaster
    // left behind by a killed manager is killed by PID.
    for (auto& n : nodes_)
      if (n->child && n->child->running()) (void)n->child->Signal(SIGTERM);
    for (int i = 0; i < 3; ++i) {
      Reap(i);
      const pid_t pm = PostmasterPid(i);
      if (pm > 0 && ::kill(pm, SIGKILL) == 0) WaitProcessGone(pm, kExitTimeout);
    }
  }
  Status StartAll() override {
    auto user = LookupUser("postgres");
    if (!user.ok()) return user.status();
    user_ = *user;
    for (int i = 0; i < 3; ++i) {
      PatroniNode& n = *nodes_[i];
      if (::chown(n.dir.path().c_str(), user_.uid, user_.gid) != 0 ||
          ::chmod(n.dir.path().c_str(), 0700) != 0)
        return Status::Error("cannot give " + n.dir.path() + " to postgres");
      // The passwords live in this file alone (mode 0600, postgres's).
      testing::WriteFileOrDie(n.config(), Yaml(i), 0600);
      if (::chown(n.config().c_str(), user_.uid, user_.gid) != 0)
        return Status::Error("cannot give " + n.config() + " to postgres");
    }
    for (int i = 0; i < 3; ++i)
      if (Status st = Restart(i); !st.ok()) return st;
    return Status::Ok();
  }
  std::string Name(int i) const override { return "n" + std::to_string(i + 1); }
  int api_port(int i) const override { return nodes_[i]->api_port; }
  int pg_port(int i) const override { return nodes_[i]->pg_port; }
  pid_t ManagerPid(int i) const override {
    return nodes_[i]->child && nodes_[i]->child->running() ? nodes_[i]->child->pid() : 0;
  }
  pid_t PostmasterPid(int i) const override { return PostmasterPidOf(nodes_[i]->data()); }
  Status Restart(int i) override {
    PatroniNode& n = *nodes_[i];
    SpawnSpec spec;
    spec.name = "patroni";
    spec.argv = {"/usr/bin/patroni", n.config()};
    spec.env = {{"PATH", "/usr/bin:/bin"},
                {"HOME", n.dir.path()},
                {"LC_ALL", "C.UTF-8"},
                {"LANG", "C.UTF-8"}};
    spec.run_as = user_;
    spec.cwd = n.dir.path();
    auto child = SpawnLogged(spec, n.log());
    if (!child.ok()) return child.status();
    n.child.emplace(std::move(*child));
    return Status::Ok();
  }
  void Reap(int i) override {
    PatroniNode& n = *nodes_[i];
    if (!n.child) return;
    WaitProcessGone(n.child->pid(), kExitTimeout);
    n.child.reset();  // kills a manager that would not go, and reaps it
  }
  int Switchover(int leader, int candidate) override {
    return HttpRequest(
               api_port(leader), "POST", "/switchover", "",
               "{\"leader\":\"" + Name(leader) + "\",\"candidate\":\"" + Name(candidate) + "\"}")
        .status;
  }
  testing::Env ConnBase() const override {
    return {{"user", "postgres"}, {"password", kPatroniSuperPassword}, {"dbname", "postgres"}};
  }
  std::string Logs() const override {
    std::string out;
    for (int i = 0; i < 3; ++i)
      out += "---- " + Name(i) + " ----\n" + testing::ReadFileOrEmpty(nodes_[i]->log());
    return out;
  }

 private:
  std::string Yaml(int i) const {
    const PatroniNode& n = *nodes_[i];
    const std::string api = "127.0.0.1:" + std::to_string(n.api_port);
    const std::string pg = "127.0.0.1:" + std::to_string(n.pg_port);
    std::ostringstream y;
    y << "scope: " << scope_ << "\nname: " << Name(i) << "\n"
      << "restapi:\n  listen: " << api << "\n  connect_address: " << api << "\n"
      << "etcd3:\n  hosts: " << etcd_.endpoint() << "\n"
      << "bootstrap:\n  dcs:\n"
      << "    ttl: " << setup_.ttl << "\n    loop_wait: " << setup_.loop_wait
      << "\n    retry_timeout: " << setup_.retry_timeout << "\n"
      << "    postgresql:\n      use_pg_rewind: true\n"
      << "  initdb:\n  - encoding: UTF8\n"
      << "  pg_hba:\n  - host replication replicator 127.0.0.1/32 md5\n"
      << "  - host all all 127.0.0.1/32 md5\n"
      << "postgresql:\n  listen: " << pg << "\n  connect_address: " << pg << "\n"
      << "  data_dir: " << n.data() << "\n  bin_dir: " << testing::PgBinDir() << "\n"
      << "  pgpass: " << n.dir.Sub("pgpass") << "\n"
      << "  remove_data_directory_on_rewind_failure: true\n"
      << "  authentication:\n"
      << "    superuser:\n      username: postgres\n      password: " << kPatroniSuperPassword
      << "\n    replication:\n      username: replicator\n      password: " << kReplicationPassword
      << "\n"
      << "    rewind:\n      username: postgres\n      password: " << kPatroniSuperPassword
      << "\n  parameters:\n    unix_socket_directories: " << n.dir.path()
      << "\n    shared_buffers: 32MB\n";
    return y.str();
  }

  HaSetup setup_;
  const Etcd& etcd_;
  std::string scope_;
  Credentials user_;
  std::vector<std::unique_ptr<PatroniNode>> nodes_;
};

}  // namespace

Etcd::Etcd() : client_port_(testing::FreePort()), peer_port_(testing::FreePort()) {}

Status Etcd::Start() {
  const std::string client = "http://127.0.0.1:" + std::to_string(client_port_);
  const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
  SpawnSpec spec;
  spec.name = "etcd";
  spec.argv = {"/usr/bin/etcd",
               "--name=b1",
               "--data-dir=" + dir_.Sub("etcd"),
               "--listen-client-urls=" + client,
               "--advertise-client-urls=" + client,
               "--listen-peer-urls=" + peer,
               "--initial-advertise-peer-urls=" + peer,
               "--initial-cluster=b1=" + peer,
               "--log-level=error"};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  auto child = SpawnLogged(spec, dir_.Sub("etcd.log"));
  if (!child.ok()) return child.status();
  child_.emplace(std::move(*child));
  if (!testing::WaitUntil([&] { return HttpGet(client_port_, "/health").status == 200; },
                          milliseconds(20000), milliseconds(50)))
    return Status::Error("etcd did not become healthy: " +
                         testing::ReadFileOrEmpty(dir_.Sub("etcd.log")));
  return Status::Ok();
}

std::map<std::string, double> Etcd::RequestsByMethod() const {
  std::map<std::string, double> by_method;
  testing::HttpResponse r = HttpGet(client_port_, "/metrics");
  if (r.status != 200) return by_method;
  // grpc_server_started_total{grpc_method="Put",grpc_service="etcdserverpb.KV",...} 47
  std::istringstream in(r.body);
  std::string line;
  const std::string tag = "grpc_method=\"";
  while (std::getline(in, line)) {
    if (line.rfind("grpc_server_started_total{", 0) != 0) continue;
    const size_t at = line.find(tag), space = line.rfind(' ');
    if (at == std::string::npos || space == std::string::npos) continue;
    const size_t from = at + tag.size();
    by_method[line.substr(from, line.find('"', from) - from)] +=
        std::atof(line.c_str() + space + 1);
  }
  return by_method;
}

std::string HaSetup::Label() const {
  if (kind == kPgrt) return "pgrt ttl=" + std::to_string(ttl);
  return "patroni ttl=" + std::to_string(ttl) + "/loop_wait=" + std::to_string(loop_wait) +
         "/retry=" + std::to_string(retry_timeout);
}

int HaCluster::Primary() const {
  int found = -1;
  for (int i = 0; i < 3; ++i) {
    if (HttpGet(api_port(i), "/primary").status != 200) continue;
    if (found >= 0) return -1;
    found = i;
  }
  return found;
}

int HaCluster::WaitSettled(milliseconds timeout) const {
  // The state must hold for a while: a former leader may answer /replica 200 while it waits
  // for the new leader, then stop again to rewind and follow it.
  constexpr milliseconds kStable{3000};
  int leader = -1;
  std::optional<Clock::time_point> since;
  const bool settled = testing::WaitUntil(
      [&] {
        int now = Primary();
        for (int i = 0; now >= 0 && i < 3; ++i)
          if (i != now && HttpGet(api_port(i), "/replica").status != 200) now = -1;
        if (now < 0 || now != leader) {
          leader = now;
          since.reset();
          if (now >= 0) since = Clock::now();
          return false;
        }
        return Clock::now() - *since >= kStable;
      },
      timeout, milliseconds(100));
  return settled ? leader : -1;
}

std::unique_ptr<HaCluster> MakeCluster(const HaSetup& setup, const Etcd& etcd) {
  if (setup.kind == HaSetup::kPgrt) return std::make_unique<PgrtCluster>(setup, etcd);
  return std::make_unique<PatroniCluster>(setup, etcd);
}

Haproxy::Haproxy(const HaCluster& c) : cluster_(c), front_(testing::FreePort()) {}

Status Haproxy::Start() {
  // Patroni's documented HAProxy shape, with a fast check (the same for both managers).
  std::string cfg =
      "global\n  maxconn 100\ndefaults\n  mode tcp\n  timeout connect 1s\n"
      "  timeout client 30s\n  timeout server 30s\n  timeout check 1s\n"
      "listen primary\n  bind 127.0.0.1:" +
      std::to_string(front_) +
      "\n  option httpchk GET /primary\n  http-check expect status 200\n"
      "  default-server inter 200ms fall 1 rise 1 on-marked-down shutdown-sessions\n";
  for (int i = 0; i < 3; ++i)
    cfg += "  server " + cluster_.Name(i) + " 127.0.0.1:" + std::to_string(cluster_.pg_port(i)) +
           " check port " + std::to_string(cluster_.api_port(i)) + "\n";
  testing::WriteFileOrDie(dir_.Sub("haproxy.cfg"), cfg);
  SpawnSpec spec;
  spec.name = "haproxy";
  spec.argv = {"/usr/sbin/haproxy", "-db", "-f", dir_.Sub("haproxy.cfg")};
  spec.env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
  auto child = SpawnLogged(spec, dir_.Sub("haproxy.log"));
  if (!child.ok()) return child.status();
  child_.emplace(std::move(*child));
  return Status::Ok();
}

double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command (which may hold spaces) start after the last ')':
  // state(3) ppid ... utime(14) stime(15).
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double utime = -1, stime = -1;
  for (int n = 3; n <= 15 && rest >> field; ++n) {
    if (n == 14) utime = std::atof(field.c_str());
    if (n == 15) stime = std::atof(field.c_str());
  }
  if (utime < 0 || stime < 0) return -1;
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace pgrt::bench
