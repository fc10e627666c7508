// The status page (GET /ui) against a real primary with a replica: Debian's headless
// Chromium loads it, runs its script against the node's API, and the figures the page shows
// are the API's. A screenshot of each page is kept under build/test-artifacts/ (not in git).
// Also the endpoints the page reads: the hour of samples and the top statements.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "replication_helpers.h"

namespace pgrt::testing {
namespace {

using namespace repl;  // NOLINT: the replication test helpers
using std::chrono::milliseconds;

constexpr char kChromium[] = "/usr/bin/chromium";

std::string ArtifactsDir() {
  auto dir = std::filesystem::path(PGRT_BINARY).parent_path() / "test-artifacts";
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Chromium with a profile of its own in `home`, bounded in time; headless as root needs
// --no-sandbox. The virtual time budget lets the page's script fetch and render.
CommandOutput RunChromium(const std::string& home, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {"/usr/bin/timeout",
                                   "--kill-after=5",
                                   "120",
                                   kChromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--user-data-dir=" + home + "/profile",
                                   "--enable-logging=stderr",
                                   "--v=0",
                                   "--window-size=1280,1800",
                                   "--virtual-time-budget=4000"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return RunCommand(argv, {{"PATH", "/usr/bin:/bin"}, {"HOME", home}});
}

// The page as Chromium left it after running its script; a screenshot of it is kept as
// `screenshot` under build/test-artifacts/ (one Chromium run for both).
std::string DumpDom(const std::string& home, const std::string& url,
                    const std::string& screenshot) {
  const std::string file = ArtifactsDir() + "/" + screenshot;
  std::filesystem::remove(file);
  CommandOutput out = RunChromium(home, {"--dump-dom", "--screenshot=" + file, url});
  EXPECT_EQ(out.exit_code, 0) << out.output;
  EXPECT_TRUE(std::filesystem::exists(file)) << out.output;
  size_t begin = out.output.find("<html");
  size_t end = out.output.rfind("</html>");
  if (begin == std::string::npos || end == std::string::npos) {
    ADD_FAILURE() << "no DOM in Chromium's output:\n" << out.output;
    return "";
  }
  // What is left around the DOM is Chromium's log: the page's console errors land there.
  std::string log = out.output.substr(0, begin) + out.output.substr(end);
  EXPECT_EQ(log.find("Uncaught"), std::string::npos) << log;
  EXPECT_EQ(log.find(":CONSOLE"), std::string::npos) << "the page logged to its console:\n" << log;
  return out.output.substr(begin, end + 7 - begin);
}

// The text of the element with `id` ("" when absent).
std::string TextOf(const std::string& dom, const std::string& id) {
  std::smatch m;
  if (!std::regex_search(dom, m, std::regex("id=\"" + id + "\"[^>]*>([^<]*)<"))) return "";
  return m[1];
}

std::string AttributeOf(const std::string& dom, const std::string& id, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(dom, m, std::regex("id=\"" + id + "\"[^>]*" + name + "=\"([^\"]*)\"")))
    return "";
  return m[1];
}

class StatusPage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    primary_ = NewPrimary().release();
    ASSERT_NO_FATAL_FAILURE(StartHealthy(*primary_));
    replica_ = NewReplica(*primary_, "ui_replica").release();
    ASSERT_NO_FATAL_FAILURE(StartHealthy(*replica_));
    ASSERT_TRUE(WaitStreaming(*primary_, *replica_)) << replica_->Log();
  }
  static void TearDownTestSuite() {
    delete replica_;
    delete primary_;
  }
  static PgrtNode* primary_;
  static PgrtNode* replica_;
  TempDir browser_;
};
PgrtNode* StatusPage::primary_ = nullptr;
PgrtNode* StatusPage::replica_ = nullptr;

TEST_F(StatusPage, IsServedWithoutATokenAsOneSelfContainedDocument) {
  HttpResponse r = primary_->Get("/ui");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<!doctype html>"), std::string::npos);
  EXPECT_EQ(r.body.find("@SCRIPT@"), std::string::npos) << "the script was not embedded";
  EXPECT_EQ(r.body.find("@STYLE@"), std::string::npos) << "the style was not embedded";
  EXPECT_EQ(r.body.find("src=\"http"), std::string::npos) << "nothing is loaded from elsewhere";
  EXPECT_EQ(r.body.find("href=\"http"), std::string::npos);
}

TEST_F(StatusPage, ShowsThePrimarysFiguresAsTheApiGivesThem) {
  const json before = GetJson(primary_->api_port(), "/__opr/status").value_or(json());
  const std::string url = "http://127.0.0.1:" + std::to_string(primary_->api_port()) + "/ui";
  const std::string dom = DumpDom(browser_.path(), url, "ui-primary.png");
  const json status = GetJson(primary_->api_port(), "/__opr/status").value_or(json());
  ASSERT_TRUE(status.value("ready", false)) << status.dump();

  EXPECT_EQ(dom.find("data-count="), std::string::npos) << "the page's script failed:\n" << dom;
  EXPECT_EQ(dom.find("<body data-loaded=\"0\""), std::string::npos) << "no refresh finished";
  EXPECT_EQ(TextOf(dom, "fetch-error"), "") << "every endpoint answered the page";
  EXPECT_EQ(TextOf(dom, "role"), "primary");
  EXPECT_EQ(TextOf(dom, "phase"), status["phase"].get<std::string>());
  EXPECT_EQ(AttributeOf(dom, "version", "data-value"), status["version"].get<std::string>());
  EXPECT_EQ(TextOf(dom, "conn-max"), std::to_string(status["connections"]["max"].get<int>()));
  // Connections move as clients come and go: the page's figure is one the API gave.
  const int shown = std::stoi("0" + TextOf(dom, "conn-current"));
  const int a = before["connections"]["current"].get<int>();
  const int b = status["connections"]["current"].get<int>();
  EXPECT_GE(shown, std::min(a, b) - 1);
  EXPECT_LE(shown, std::max(a, b) + 1);
  // The data volume is shared with whatever else writes to this disk: its use moves too (by
  // two points and back between the reads while a build ran beside the test).
  std::smatch used;
  const std::string disk = TextOf(dom, "disk-data");
  ASSERT_TRUE(std::regex_search(disk, used, std::regex(R"(\(([0-9]+)%\))"))) << disk;
  auto percent = [](const json& s) {
    return std::stoi(s["volumes"]["data"]["usePercent"].get<std::string>());
  };
  EXPECT_GE(std::stoi(used[1]), std::min(percent(before), percent(status)) - 3) << disk;
  EXPECT_LE(std::stoi(used[1]), std::max(percent(before), percent(status)) + 3) << disk;
  // The replica, by the name the primary's API lists it under, with its lag in bytes.
  const json standbys = status["replication"]["standbys"];
  ASSERT_EQ(standbys.size(), 1u) << status.dump();
  const std::string name = standbys[0]["applicationName"].get<std::string>();
  std::smatch row;
  ASSERT_TRUE(
      std::regex_search(dom, row,
                        std::regex("<tr data-name=\"" + name +
                                   "\">.*?class=\"num lag-bytes\" data-value=\"([0-9]+)\"")))
      << dom;
  EXPECT_EQ(row[1], std::to_string(standbys[0]["lagBytes"].get<int64_t>()));
  // The cluster section stays hidden without PGRT_HA; the charts have their samples.
  EXPECT_NE(dom.find("id=\"cluster-section\" hidden"), std::string::npos);
  EXPECT_NE(TextOf(dom, "sample-count"), "0");
}

TEST_F(StatusPage, ShowsTheReplicasUpstreamAndLagAsTheApiGivesThem) {
  const std::string url = "http://127.0.0.1:" + std::to_string(replica_->api_port()) + "/ui";
  const std::string dom = DumpDom(browser_.path(), url, "ui-replica.png");
  const json rep = Replication(*replica_);
  EXPECT_EQ(dom.find("data-count="), std::string::npos) << "the page's script failed:\n" << dom;
  EXPECT_EQ(TextOf(dom, "role"), "replica");
  EXPECT_EQ(
      TextOf(dom, "upstream-host").rfind("127.0.0.1:" + std::to_string(primary_->pg_port()), 0), 0u)
      << dom;
  EXPECT_EQ(TextOf(dom, "upstream-receiver"), "streaming");
  // Idle: nothing pending, as the API says.
  EXPECT_EQ(AttributeOf(dom, "replica-lag-bytes", "data-value"),
            std::to_string(rep["lagBytes"].get<int64_t>()));
}

TEST_F(StatusPage, TheReplicasCloneToldItsProgressAndIsOver) {
  // pg_basebackup --progress: bytes of the primary's estimate, logged and in the status.
  const std::string log = replica_->Log();
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(log, m, std::regex(R"(clone: ([0-9.]+) MB of ([0-9.]+) MB \(100 %\))")))
      << log;
  EXPECT_GT(std::stod(m[1]), 1.0) << "a new cluster is some megabytes";
  EXPECT_EQ(m[1], m[2]);
  const json status = GetJson(replica_->api_port(), "/__opr/status").value_or(json());
  ASSERT_TRUE(status.contains("progress")) << status.dump();
  EXPECT_TRUE(status["progress"].is_null()) << "nothing long runs now";
}

TEST_F(StatusPage, TheHistoryIsBoundedAndStartsWithTheFirstObservation) {
  json h;
  ASSERT_TRUE(WaitUntil(
      [&] {
        h = GetJson(primary_->api_port(), "/__opr/history/samples").value_or(json());
        return h.contains("samples") && !h["samples"].empty();
      },
      milliseconds(10000), milliseconds(100)));
  EXPECT_EQ(h["intervalSeconds"], 10);
  EXPECT_EQ(h["capacity"], 360);
  EXPECT_LE(h["samples"].size(), 360u);
  const json& s = h["samples"].back();
  for (const char* key :
       {"at", "tps", "connections", "lagBytes", "lagSeconds", "walBytesPerSecond"})
    EXPECT_TRUE(s.contains(key)) << key;
  EXPECT_GE(s["connections"].get<int>(), 1) << "the monitor's own connection is a client";
}

TEST_F(StatusPage, TopStatementsShowNormalizedTextAndNoLiteral) {
  for (int i = 0; i < 5; ++i)
    primary_->Query("SELECT count(*) FROM pg_class WHERE relname = 'ui-literal-" +
                    std::to_string(i) + "'");
  primary_->Query("CREATE ROLE ui_probe PASSWORD 'ui-secret-pw'");
  primary_->Query("SELECT 'ui-secret-select' INTO TEMP ui_into");
  int status = 0;
  json st = GetJson(primary_->api_port(), "/__opr/statements?limit=100", &status).value_or(json());
  ASSERT_EQ(status, 200) << st.dump();
  ASSERT_TRUE(st.value("available", false)) << st.dump();
  const std::string body = st.dump();
  EXPECT_EQ(body.find("ui-literal"), std::string::npos) << body;
  EXPECT_EQ(body.find("ui-secret"), std::string::npos) << body;
  EXPECT_GE(st["hidden"].get<int>(), 1) << "the utility statements are counted, not shown";
  bool found = false;
  for (const json& s : st["statements"]) {
    if (s["query"].get<std::string>().find("relname = $1") == std::string::npos) continue;
    found = true;
    EXPECT_EQ(s["calls"].get<int>(), 5);
    EXPECT_GT(s["totalTimeMs"].get<double>(), 0);
    EXPECT_GT(s["meanTimeMs"].get<double>(), 0);
    EXPECT_EQ(s["rows"].get<int>(), 5);
    EXPECT_EQ(s["database"], primary_->env().at("POSTGRES_DB"));
  }
  EXPECT_TRUE(found) << body;
  // The default list is shorter; a replica has its own statistics, and answers too.
  json few = GetJson(primary_->api_port(), "/__opr/statements?limit=1").value_or(json());
  EXPECT_LE(few["statements"].size(), 1u);
  EXPECT_EQ(
      GetJson(replica_->api_port(), "/__opr/statements", &status).value_or(json())["available"],
      true);
}

TEST_F(StatusPage, PgStatStatementsIsPreloadedAndCreatedByDefault) {
  EXPECT_EQ(primary_->Query("SHOW shared_preload_libraries"), "pg_stat_statements");
  EXPECT_EQ(
      primary_->Query("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'"),
      "1");
}

}  // namespace
}  // namespace pgrt::testing
