// The Prometheus text format pgrt writes (src/metrics/exposition.h) and the table of
// families behind it (src/metrics/families.h).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <regex>
#include <set>
#include <sstream>

#include "metrics/exposition.h"
#include "metrics/families.h"

namespace pgrt {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST(MetricFamilies, NamesAreValidUniqueAndPassPromtoolsLint) {
  std::set<std::string> seen;
  const std::regex name("[a-zA-Z_:][a-zA-Z0-9_:]*");
  for (const MetricFamilyDesc& f : MetricFamilies()) {
    std::string n = f.name;
    EXPECT_TRUE(std::regex_match(n, name)) << n;
    EXPECT_TRUE(seen.insert(n).second) << n << " twice";
    EXPECT_FALSE(std::string(f.help).empty()) << n;
    // promtool's lint: counters end in _total; no gauge or counter ends in _count/_sum/_bucket.
    if (f.type == MetricType::kCounter) {
      EXPECT_TRUE(EndsWith(n, "_total")) << n;
    }
    if (f.type != MetricType::kUntyped) {
      for (const char* s : {"_count", "_sum", "_bucket"}) EXPECT_FALSE(EndsWith(n, s)) << n;
    }
    for (const char* l : f.labels) EXPECT_TRUE(std::regex_match(std::string(l), name)) << n;
  }
}

TEST(MetricFamilies, EveryFamilyIsDocumented) {
  std::ifstream in(std::string(PGRT_SOURCE_DIR) + "/docs/pooling-and-metrics.md");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  for (const MetricFamilyDesc& f : MetricFamilies())
    EXPECT_NE(ss.str().find(std::string("`") + f.name + "`"), std::string::npos)
        << f.name << " is missing from docs/pooling-and-metrics.md";
}

TEST(MetricsPage, AHistogramHasCumulativeBucketsUpToInfThenSumAndCount) {
  MetricsPage page;
  page.AddHistogram("pgrt_wake_duration_seconds", {0.1, 0.5}, {2, 1}, 4, 2.25);
  const std::string text = page.Render();
  EXPECT_NE(text.find("# TYPE pgrt_wake_duration_seconds histogram\n"
                      "pgrt_wake_duration_seconds_bucket{le=\"0.1\"} 2\n"
                      "pgrt_wake_duration_seconds_bucket{le=\"0.5\"} 3\n"
                      "pgrt_wake_duration_seconds_bucket{le=\"+Inf\"} 4\n"
                      "pgrt_wake_duration_seconds_sum 2.25\n"
                      "pgrt_wake_duration_seconds_count 4\n"),
            std::string::npos)
      << text;
  MetricsPage merged;
  merged.Merge(page);
  EXPECT_EQ(merged.Render(), text);
}

TEST(MetricsPage, WritesHelpAndTypeOnceAndKeepsAFamilysSamplesTogether) {
  MetricsPage page;
  page.Add("pg_database_size_bytes", {"a"}, 1);
  page.Add("pg_up", {}, 1);
  page.Add("pg_database_size_bytes", {"b"}, 2);
  EXPECT_EQ(page.Render(),
            "# HELP pg_up 1 when postgres answered this scrape's queries, else 0.\n"
            "# TYPE pg_up gauge\n"
            "pg_up 1\n"
            "# HELP pg_database_size_bytes Disk space used by the database.\n"
            "# TYPE pg_database_size_bytes gauge\n"
            "pg_database_size_bytes{datname=\"a\"} 1\n"
            "pg_database_size_bytes{datname=\"b\"} 2\n");
}

TEST(MetricsPage, EscapesLabelValuesAndDropsDuplicateSeries) {
  MetricsPage page;
  page.Add("pg_database_size_bytes", {"we\"ird\\db\nx"}, 1);
  page.Add("pg_database_size_bytes", {"we\"ird\\db\nx"}, 2);
  std::string out = page.Render();
  EXPECT_NE(out.find("pg_database_size_bytes{datname=\"we\\\"ird\\\\db\\nx\"} 1\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("} 2"), std::string::npos) << out;
  EXPECT_EQ(page.size(), 1u);
}

TEST(MetricsPage, AddTextSkipsNullsAndGarbage) {
  MetricsPage page;
  page.AddText("pg_up", {}, "");
  page.AddText("pg_settings_max_connections", {}, "12abc");
  page.AddText("pg_replication_lag", {}, "0.25");
  EXPECT_EQ(page.size(), 1u);
  EXPECT_NE(page.Render().find("pg_replication_lag 0.25\n"), std::string::npos);
}

TEST(FormatMetricValue, ReadsAsPrometheusExpects) {
  const std::pair<double, std::string> kCases[] = {
      {0, "0"},
      {42, "42"},
      {-3, "-3"},
      {7708007, "7708007"},
      {0.5, "0.5"},
      {1e20, "1e+20"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::nan(""), "NaN"},
  };
  for (const auto& [v, want] : kCases) EXPECT_EQ(FormatMetricValue(v), want) << v;
}

}  // namespace
}  // namespace pgrt
