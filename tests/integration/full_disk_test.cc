// A full or read-only disk under a running node: pgrt stays up and keeps trying (the
// exits are not counted as a crash loop), says why in status, health bodies, logs and
// metrics, and serves again by itself within seconds of the disk coming back — with every
// committed row. PGDATA lives on a small tmpfs this test mounts under its own temp dir.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "harness/harness.h"

namespace pgrt::testing {
namespace {

using std::chrono::milliseconds;

// A tmpfs of `size` mounted at `path` (created), unmounted on destruction.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& path, const std::string& size) : path_(path) {
    ::mkdir(path.c_str(), 0755);
    std::string opts = "size=" + size + ",mode=0755";
    ok_ = ::mount("tmpfs", path.c_str(), "tmpfs", 0, opts.c_str()) == 0;
  }
  ~TmpfsMount() {
    if (!ok_) return;
    if (::umount(path_.c_str()) != 0) ::umount2(path_.c_str(), MNT_DETACH);  // still busy
  }
  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }
  // mount -o remount,ro / rw.
  bool Remount(bool read_only) {
    unsigned long flags = MS_REMOUNT | (read_only ? MS_RDONLY : 0);
    return ::mount("tmpfs", path_.c_str(), "tmpfs", flags, nullptr) == 0;
  }

 private:
  std::string path_;
  bool ok_ = false;
};

// Writes `path` until the file system has no byte left (bounded by its size).
void FillUp(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  std::string chunk(1 << 20, 'x');
  for (size_t size : {size_t(1) << 20, size_t(4096), size_t(1)}) {
    for (int i = 0; i < 4096; ++i)
      if (::write(fd, chunk.data(), size) <= 0) break;
  }
  ::close(fd);
}

std::string Message(const PgrtNode& node) {
  auto status = nlohmann::json::parse(node.Get("/__opr/status").body, nullptr, false);
  return status.is_object() && status.contains("message") ? status["message"].get<std::string>()
                                                          : "";
}

// Tries to start postgres that pgrt did not count as crashes.
size_t UncountedTries(const PgrtNode& node) {
  std::string log = node.Log();
  size_t n = 0;
  for (size_t at = log.find("not counted as a crash"); at != std::string::npos;
       at = log.find("not counted as a crash", at + 1))
    ++n;
  return n;
}

// The value of `pgrt_filesystem_avail_bytes{volume="<volume>",...}` on /metrics; -1: absent.
double AvailableBytes(const PgrtNode& node, const std::string& volume) {
  std::string page = node.Get("/metrics").body;
  std::string key = "pgrt_filesystem_avail_bytes{volume=\"" + volume + "\"";
  size_t at = page.find(key);
  if (at == std::string::npos) return -1;
  size_t space = page.find("} ", at);
  return space == std::string::npos ? -1 : std::stod(page.substr(space + 2));
}

// Inserts rows one transaction each, from `next` on, until one fails or `count` committed;
// appends the ids that committed.
void InsertRows(PgConn& conn, int& next, int count, std::vector<int>& committed) {
  for (int i = 0; i < count; ++i, ++next) {
    auto r = conn.Exec("INSERT INTO kept VALUES (" + std::to_string(next) + ", repeat('p', 500))");
    if (!r.ok()) return;
    committed.push_back(next);
  }
}

// How many of `ids` the table holds.
std::string CountOf(const PgrtNode& node, const std::vector<int>& ids) {
  std::string list;
  for (int id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
  return node.Query("SELECT count(*) FROM kept WHERE id = ANY('{" + list + "}'::int[])");
}

class FullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    // Room for the cluster and the WAL postgres keeps after its crash recovery (min_wal_size,
    // wal_keep_size): the test fills whatever is left anyway.
    mount_.emplace(dir_.Sub("volume"), "128m");
    ASSERT_TRUE(mount_->ok()) << "mount tmpfs: " << std::strerror(errno);
    // One restart allowed: a fault counted as crashes would give up after two exits.
    node_.emplace(Env{{"PGDATA", mount_->path() + "/data"}, {"PGRT_RESTART_MAX", "1"}});
    node_->Start();
    ASSERT_TRUE(node_->WaitHealthy()) << node_->Log();
    std::string err;
    node_->Query("CREATE TABLE kept (id int PRIMARY KEY, pad text)", &err);
    ASSERT_EQ(err, "");
  }
  void TearDown() override {
    if (node_ && node_->running()) node_->Stop(SIGTERM);
    node_.reset();
    if (mount_) mount_->Remount(false);
    mount_.reset();
  }

  // pgrt keeps running and keeps trying: more failed tries than PGRT_RESTART_MAX allows.
  void ExpectItKeepsTrying() {
    EXPECT_TRUE(WaitUntil([&] { return UncountedTries(*node_) >= 3; }, milliseconds(20000),
                          milliseconds(200)))
        << node_->Log();
    EXPECT_TRUE(node_->running()) << "pgrt gave up\n" << node_->Log();
  }

  TempDir dir_;
  std::optional<TmpfsMount> mount_;
  std::optional<PgrtNode> node_;
};

TEST_F(FullDiskTest, PgrtStaysUpSaysWhyAndServesEveryCommittedRowOnceSpaceReturns) {
  auto conn = PgConn::Connect(node_->Conn());
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  std::vector<int> committed;
  int next = 1;
  InsertRows(*conn, next, 200, committed);
  ASSERT_EQ(committed.size(), 200u);

  const std::string filler = mount_->path() + "/filler";
  FillUp(filler);
  InsertRows(*conn, next, 5000, committed);  // until the disk refuses one (a new heap page)
  ASSERT_TRUE(WaitUntil([&] { return Message(*node_).find("disk full") != std::string::npos; },
                        milliseconds(5000)))
      << Message(*node_);
  // postgres runs on, refusing writes, until it needs a new WAL segment: then it PANICs,
  // and its crash recovery cannot write the end-of-recovery checkpoint either.
  std::string err;
  node_->Query("SELECT pg_switch_wal()", &err);
  node_->Query("INSERT INTO kept VALUES (0, 'needs the next WAL segment')", &err);
  ExpectItKeepsTrying();

  const std::string message = Message(*node_);
  EXPECT_NE(message.find("disk full: the data volume (" + mount_->path() + "/data)"),
            std::string::npos)
      << message;
  HttpResponse health = node_->Get("/__opr/health");
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(health.body.rfind("Database unavailable: disk full", 0), 0u) << health.body;
  double avail = AvailableBytes(*node_, "data");
  EXPECT_GE(avail, 0);
  EXPECT_LT(avail, 1 << 20) << "the data volume is full";
  EXPECT_NE(node_->Log().find("not counted as a crash"), std::string::npos) << node_->Log();

  ASSERT_EQ(::unlink(filler.c_str()), 0);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(node_->WaitHealthy(milliseconds(20000))) << node_->Log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(8)) << node_->Log();
  EXPECT_EQ(CountOf(*node_, committed), std::to_string(committed.size()));
  EXPECT_TRUE(WaitUntil([&] { return Message(*node_).find("disk full") == std::string::npos; },
                        milliseconds(3000)))
      << Message(*node_);
  EXPECT_GT(AvailableBytes(*node_, "data"), 16 << 20);
  EXPECT_EQ(ExitCode(node_->Stop(SIGTERM)), 0) << node_->Log();
}

TEST_F(FullDiskTest, AReadOnlyDiskIsReportedAndTheNodeRecoversWhenItIsWritableAgain) {
  auto conn = PgConn::Connect(node_->Conn());
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  std::vector<int> committed;
  int next = 1;
  InsertRows(*conn, next, 200, committed);
  ASSERT_EQ(committed.size(), 200u);

  // A file system with files open for writing cannot be remounted read-only (EBUSY): hold
  // pgrt (SIGSTOP) while its postgres goes down, remount, then let pgrt find the disk so.
  ASSERT_EQ(::kill(node_->pid(), SIGSTOP), 0);
  const pid_t pm = node_->PostmasterPid();
  ::kill(pm, SIGKILL);
  bool remounted =
      WaitUntil([&] { return mount_->Remount(true); }, milliseconds(10000), milliseconds(50));
  ::kill(node_->pid(), SIGCONT);
  ASSERT_TRUE(remounted) << "remount read-only: " << std::strerror(errno);

  ExpectItKeepsTrying();
  const std::string message = Message(*node_);
  EXPECT_NE(message.find("read-only file system: the data volume"), std::string::npos) << message;
  HttpResponse health = node_->Get("/__opr/health");
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(health.body.rfind("Database unavailable: read-only file system", 0), 0u) << health.body;
  EXPECT_NE(node_->Get("/metrics").body.find("pgrt_filesystem_readonly{volume=\"data\""),
            std::string::npos);

  ASSERT_TRUE(mount_->Remount(false));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(node_->WaitHealthy(milliseconds(20000))) << node_->Log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(8)) << node_->Log();
  EXPECT_EQ(CountOf(*node_, committed), std::to_string(committed.size()));
  EXPECT_EQ(Message(*node_).find("read-only"), std::string::npos) << Message(*node_);
  EXPECT_EQ(ExitCode(node_->Stop(SIGTERM)), 0) << node_->Log();
}

}  // namespace
}  // namespace pgrt::testing
