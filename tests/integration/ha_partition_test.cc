// A network partition (PGRT_HA=etcd): etcd and three nodes, each in a network namespace of its
// own on a private bridge (netns_lab.h), a client namespace beside them. An nftables rule in
// the leader's namespace cuts it off from etcd and its peers while its clients still reach it:
// they must see its writes refused within the lease, another node takes over, no two nodes are
// ever seen writable at once, and once the cut heals the old leader rejoins as a replica of the
// new one through pg_rewind. Every connection to a private address is made from a thread that
// entered the client namespace; the root namespace never talks to one.
#include <fcntl.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "integration/bank_workload.h"
#include "integration/ha_helpers.h"
#include "integration/netns_lab.h"

namespace pgrt::testing::ha {
namespace {

// Runs `f` on a thread inside `host`'s namespace and returns its result.
template <class F>
auto InHost(const NetnsLab& lab, const std::string& host, F f) {
  decltype(f()) out{};
  std::thread t([&] {
    if (lab.Enter(host)) out = f();
  });
  t.join();
  return out;
}

// A single etcd member listening on `address` inside the lab host "etcd".
std::optional<Child> StartEtcd(const NetnsLab& lab, const std::string& address,
                               const TempDir& dir) {
  SpawnSpec spec;
  spec.name = "etcd";
  spec.argv = lab.Launcher("etcd");
  const std::string client = "http://" + address + ":2379";
  const std::vector<std::string> args = {"/usr/bin/etcd",
                                         "--name=m0",
                                         "--data-dir=" + dir.Sub("etcd"),
                                         "--listen-client-urls=" + client,
                                         "--advertise-client-urls=" + client,
                                         "--listen-peer-urls=http://127.0.0.1:2380",
                                         "--initial-advertise-peer-urls=http://127.0.0.1:2380",
                                         "--initial-cluster=m0=http://127.0.0.1:2380",
                                         "--heartbeat-interval=50",
                                         "--election-timeout=250"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  const int fd =
      ::open(dir.Sub("etcd.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  spec.stdout_fd = fd;
  spec.stderr_fd = fd;
  auto child = Child::Spawn(spec);
  ::close(fd);
  if (!child.ok()) return std::nullopt;
  return std::move(*child);
}

}  // namespace

TEST(HaPartition, ALeaderCutOffFromEtcdAndItsPeersRefusesWritesWithinTheLeaseAndRejoinsAfter) {
  NetnsLab lab;  // first: destroyed after the processes that run in it
  ASSERT_TRUE(lab.error().empty()) << lab.error();
  const std::string etcd_address = lab.AddHost("etcd", 1);
  std::vector<std::string> address;
  for (int i = 0; i < 3; ++i) address.push_back(lab.AddHost("n" + std::to_string(i + 1), 11 + i));
  lab.AddHost("client", 100);
  ASSERT_TRUE(lab.error().empty()) << lab.error();

  TempDir dir;
  std::optional<Child> etcd = StartEtcd(lab, etcd_address, dir);
  ASSERT_TRUE(etcd.has_value());
  std::vector<std::unique_ptr<PgrtNode>> nodes;
  std::vector<ConnParams> conn;
  for (int i = 0; i < 3; ++i) {
    const std::string name = "n" + std::to_string(i + 1);
    nodes.push_back(
        std::make_unique<PgrtNode>(Env{{"PGRT_HA", "etcd"},
                                       {"PGRT_ETCD_ENDPOINTS", "http://" + etcd_address + ":2379"},
                                       {"PGRT_CLUSTER_NAME", "part"},
                                       {"PGRT_NODE_NAME", name},
                                       {"PGRT_ADVERTISE_HOST", address[i]},
                                       {"POSTGRES_LISTEN_ADDRESSES", "127.0.0.1," + address[i]},
                                       {"PGRT_API_ADDRESS", "0.0.0.0"},
                                       {"PGRT_HA_TTL", std::to_string(kTtl)},
                                       {"POSTGRES_REPLICATION_PASSWORD", kReplicationPassword},
                                       {"PGRT_API_TOKEN", kApiToken}}));
    nodes[i]->set_launcher(lab.Launcher(name));
    ConnParams p = nodes[i]->Conn();
    p["host"] = address[i];
    p["connect_timeout"] = "2";
    conn.push_back(p);
  }
  for (auto& n : nodes) n->Start();
  auto logs = [&] {
    std::string out = "---- etcd ----\n" + ReadFileOrEmpty(dir.Sub("etcd.log")).substr(0, 3000);
    for (int i = 0; i < 3; ++i)
      out += "---- n" + std::to_string(i + 1) + " ----\n" + nodes[i]->Log();
    return out;
  };
  // What the client namespace sees of node i: "f" writable, "t" in recovery, "" no answer.
  auto recovery = [&](int i) {
    return InHost(lab, "client",
                  [&] { return QueryFirstValue(conn[i], "SELECT pg_is_in_recovery()"); });
  };
  // The one node answering "f" while every other answers "t"; -1 otherwise.
  auto settled_leader = [&] {
    int leader = -1;
    for (int i = 0; i < 3; ++i) {
      const std::string r = recovery(i);
      if (r == "f" && leader < 0)
        leader = i;
      else if (r != "t")
        return -1;
    }
    return leader;
  };
  int old = -1;
  ASSERT_TRUE(WaitUntil(
      [&] {
        old = settled_leader();
        return old >= 0;
      },
      milliseconds(90000), milliseconds(200)))
      << logs();
  ASSERT_EQ(
      InHost(lab, "client",
             [&] { return QueryFirstValue(conn[old], "CREATE TABLE t (v int); SELECT 'ok'"); }),
      "ok");
  const std::string old_name = "n" + std::to_string(old + 1);

  std::vector<bank::PrimaryMonitor::Target> targets;
  for (int i = 0; i < 3; ++i) targets.push_back({"n" + std::to_string(i + 1), conn[i]});
  bank::PrimaryMonitor monitor(targets, [&] { lab.Enter("client"); });

  // A client of the old leader, writing back to back from the client namespace, which the cut
  // leaves connected to it.
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::atomic<Clock::time_point> last_ack{};
  std::thread writer([&] {
    if (!lab.Enter("client")) return;
    const auto end = Clock::now() + std::chrono::seconds(60);
    int next = 1;
    while (!stop && Clock::now() < end && next < 100000) {
      auto c = PgConn::Connect(conn[old]);
      if (!c.ok()) {
        std::this_thread::sleep_for(milliseconds(50));
        continue;
      }
      while (!stop && Clock::now() < end &&
             c->Exec("INSERT INTO t VALUES (" + std::to_string(next) + ")").ok()) {
        ++next;
        ++acked;
        last_ack = Clock::now();
      }
    }
  });
  auto finish_writer = [&] {
    stop = true;
    if (writer.joinable()) writer.join();
  };
  if (!WaitUntil([&] { return acked > 50; }, milliseconds(10000))) {
    finish_writer();
    FAIL() << "no write acknowledged before the cut\n" << logs();
  }

  std::vector<std::string> others = {etcd_address};
  for (int i = 0; i < 3; ++i)
    if (i != old) others.push_back(address[i]);
  const auto cut = Clock::now();
  if (!lab.Cut(old_name, others)) {
    finish_writer();
    FAIL() << lab.error();
  }
  int fresh = -1;
  const bool promoted = WaitUntil(
      [&] {
        for (int i = 0; i < 3; ++i)
          if (i != old && recovery(i) == "f") {
            fresh = i;
            return true;
          }
        return false;
      },
      milliseconds((kTtl + 15) * 1000), milliseconds(50));
  const auto took_over = Clock::now();
  finish_writer();
  ASSERT_TRUE(promoted) << logs();
  const auto refused_after = std::chrono::duration_cast<milliseconds>(last_ack.load() - cut);
  RecordProperty("last_write_after_cut_ms", static_cast<int>(refused_after.count()));
  RecordProperty(
      "new_leader_after_cut_ms",
      static_cast<int>(std::chrono::duration_cast<milliseconds>(took_over - cut).count()));
  EXPECT_LT(refused_after, milliseconds(kTtl * 1000))
      << "the cut-off leader acknowledged writes until its lease could have ended";
  EXPECT_LT(last_ack.load(), took_over);
  // Its clients are refused now: read-only, or no server while it restarts as a standby.
  std::string error;
  InHost(lab, "client",
         [&] { return QueryFirstValue(conn[old], "INSERT INTO t VALUES (-1)", &error); });
  EXPECT_FALSE(error.empty()) << "the cut-off old leader still takes writes";
  // The new leader takes writes; the third node follows it.
  ASSERT_EQ(InHost(lab, "client",
                   [&] {
                     return QueryFirstValue(conn[fresh], "INSERT INTO t VALUES (-2); SELECT 'ok'");
                   }),
            "ok")
      << logs();

  // Healed, the old leader rejoins as a replica of the new one, through pg_rewind.
  const size_t mark = nodes[old]->LogSize();
  ASSERT_TRUE(lab.Heal(old_name)) << lab.error();
  const std::string state = "SELECT count(*) || ':' || sum(v) FROM t";
  const std::string expected =
      InHost(lab, "client", [&] { return QueryFirstValue(conn[fresh], state); });
  EXPECT_TRUE(WaitUntil(
      [&] {
        return recovery(old) == "t" &&
               InHost(lab, "client", [&] { return QueryFirstValue(conn[old], state); }) == expected;
      },
      milliseconds(60000), milliseconds(200)))
      << nodes[old]->LogSince(mark);
  EXPECT_NE(nodes[old]->Log().find("pg_rewind"), std::string::npos) << nodes[old]->LogSince(mark);
  // The third node follows the new leader too and holds exactly its rows: re-pointed, or
  // rewound first when it had received more of the old leader's WAL than the node promoted.
  const int third = 3 - old - fresh;
  EXPECT_TRUE(WaitUntil(
      [&] {
        return recovery(third) == "t" && InHost(lab, "client", [&] {
                                           return QueryFirstValue(conn[third], state);
                                         }) == expected;
      },
      milliseconds(60000), milliseconds(200)))
      << nodes[third]->Log();

  monitor.Stop();
  const std::vector<std::string> overlaps = monitor.Overlaps();
  EXPECT_TRUE(overlaps.empty()) << overlaps.size()
                                << " intervals with two primaries, first: " << overlaps.front();
  EXPECT_GT(monitor.WritableSamples(old), 0);
  EXPECT_GT(monitor.WritableSamples(fresh), 0);
}

}  // namespace pgrt::testing::ha
