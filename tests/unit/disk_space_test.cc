// The node's volumes and when they stop postgres: a full or read-only data or WAL volume is
// a lasting fault; a full backup repository, an unknown volume or a file system without a
// fixed number of inodes is not.
#include "pgdata/disk_space.h"

#include <gtest/gtest.h>

#include "config_test_env.h"
#include "metrics/disk_metrics.h"
#include "state/node_state.h"

namespace pgrt {
namespace {

constexpr uint64_t kMB = 1ull << 20;

VolumeUsage Volume(const std::string& name, uint64_t avail, uint64_t files_free = 1000,
                   bool read_only = false, uint64_t files = 1000) {
  VolumeUsage v;
  v.name = name;
  v.path = "/srv/" + name;
  v.known = true;
  v.read_only = read_only;
  v.size_bytes = 1024 * kMB;
  v.avail_bytes = avail;
  v.files = files;
  v.files_free = files_free;
  return v;
}

TEST(DiskFault, NamesTheVolumeThatKeepsPostgresFromRunning) {
  struct Case {
    const char* name;
    std::vector<VolumeUsage> volumes;
    std::optional<std::string> fault;
  };
  VolumeUsage unknown = Volume("data", 0);
  unknown.known = false;
  const Case kCases[] = {
      {"plenty of space", {Volume("data", 500 * kMB), Volume("wal", 500 * kMB)}, std::nullopt},
      {"data full",
       {Volume("data", 0), Volume("wal", 500 * kMB)},
       "disk full: the data volume (/srv/data) has 0 B available of 1.0 GB"},
      {"less than a WAL segment left on the WAL volume",
       {Volume("data", 500 * kMB), Volume("wal", 10 * kMB)},
       "disk full: the wal volume (/srv/wal) has 10.0 MB available of 1.0 GB"},
      {"exactly a WAL segment left", {Volume("data", 16 * kMB)}, std::nullopt},
      {"no inodes",
       {Volume("data", 500 * kMB, 0)},
       "disk full: the data volume (/srv/data) has no free inodes"},
      {"no fixed number of inodes", {Volume("data", 500 * kMB, 0, false, 0)}, std::nullopt},
      {"read-only",
       {Volume("data", 500 * kMB, 1000, true)},
       "read-only file system: the data volume (/srv/data) is mounted read-only"},
      {"a full backup repository stops archiving, not postgres",
       {Volume("data", 500 * kMB), Volume("backup", 0)},
       std::nullopt},
      {"statvfs failed", {unknown}, std::nullopt},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(DiskFault(c.volumes), c.fault);
  }
}

TEST(NodeVolumes, AreDataWalAndALocalBackupRepository) {
  struct Case {
    const char* name;
    Environment env;
    std::vector<std::pair<std::string, std::string>> volumes;
  };
  const Case kCases[] = {
      {"defaults",
       config_test::With({{"PGDATA", "/pg/data"}}),
       {{"data", "/pg/data"}, {"wal", "/pg/data/pg_wal"}}},
      {"WAL elsewhere and a posix repository",
       config_test::With({{"PGDATA", "/pg/data"},
                          {"POSTGRES_INITDB_WALDIR", "/pg/wal"},
                          {"PGBACKREST_REPO1_PATH", "/pg/repo"}}),
       {{"data", "/pg/data"}, {"wal", "/pg/wal"}, {"backup", "/pg/repo"}}},
      {"an S3 repository has no local file system",
       config_test::With({{"PGDATA", "/pg/data"},
                          {"PGBACKREST_REPO1_PATH", "/bucket/path"},
                          {"PGBACKREST_REPO1_TYPE", "s3"}}),
       {{"data", "/pg/data"}, {"wal", "/pg/data/pg_wal"}}},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Result<Config> config = LoadConfig(c.env);
    ASSERT_TRUE(config.ok()) << config.status().message();
    std::vector<std::pair<std::string, std::string>> got;
    for (const VolumeUsage& v : NodeVolumes(*config)) got.emplace_back(v.name, v.path);
    EXPECT_EQ(got, c.volumes);
  }
}

TEST(StatVolume, ReadsAnExistingPathAndLeavesAMissingOneUnknown) {
  VolumeUsage root = StatVolume({"data", "/"});
  EXPECT_TRUE(root.known);
  EXPECT_GT(root.size_bytes, 0u);
  EXPECT_LE(root.avail_bytes, root.size_bytes);
  EXPECT_FALSE(StatVolume({"data", "/nonexistent/pgrt-volume"}).known);
}

TEST(NodeStateDiskFault, LeadsTheMessageAndTheHealthBodiesKeepTheirFirstWords) {
  NodeState state;
  state.SetMessage("set-up: cannot connect to postgres");
  EXPECT_EQ(state.NotReadyText(), "PostgreSQL is starting");
  EXPECT_EQ(state.UnavailableText(), "Database unavailable");
  state.SetDiskFault("disk full: the data volume (/d) has 0 B available of 64.0 MB");
  EXPECT_EQ(state.message(),
            "disk full: the data volume (/d) has 0 B available of 64.0 MB; set-up: cannot "
            "connect to postgres");
  EXPECT_EQ(state.NotReadyText(),
            "Database unavailable: disk full: the data volume (/d) has 0 B available of 64.0 MB");
  EXPECT_EQ(state.UnavailableText(), state.NotReadyText());
  state.SetDiskFault("");
  EXPECT_EQ(state.message(), "set-up: cannot connect to postgres");
}

TEST(DiskMetrics, ShowsEveryKnownVolumeWithItsNameAndPath) {
  VolumeUsage unknown = Volume("backup", 0);
  unknown.known = false;
  MetricsPage page;
  AddDiskMetrics({Volume("data", 0, 7, true), unknown}, page);
  std::string text = page.Render();
  EXPECT_NE(text.find("pgrt_filesystem_avail_bytes{volume=\"data\",path=\"/srv/data\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("pgrt_filesystem_size_bytes{volume=\"data\",path=\"/srv/data\"} 1073741824"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("pgrt_filesystem_files_free{volume=\"data\",path=\"/srv/data\"} 7"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("pgrt_filesystem_files{volume=\"data\",path=\"/srv/data\"} 1000"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("pgrt_filesystem_readonly{volume=\"data\",path=\"/srv/data\"} 1"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("backup"), std::string::npos) << "an unreadable volume shows numbers";
}

}  // namespace
}  // namespace pgrt
