// Every metric family /metrics can show, described once: name, type, labels and help. The
// exposition, the tests and docs/pooling-and-metrics.md all follow this table.
//
// Names are postgres_exporter's (and pgbouncer_exporter's) where those have one, so
// dashboards and alerts written for them work. Where the exporter's name is a counter
// without "_total" (pg_stat_database_xact_commit) or a gauge ending in "_count"
// (pg_stat_activity_count), the family is exposed as `untyped`: the name stays compatible
// and `promtool check metrics` stays clean.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgrt {

// kHistogram: samples are added with MetricsPage::AddHistogram (_bucket, _sum, _count).
enum class MetricType { kGauge, kCounter, kUntyped, kHistogram };
const char* ToString(MetricType t);

struct MetricFamilyDesc {
  const char* name;
  MetricType type;
  std::vector<const char*> labels;
  const char* help;
};

// In exposition order.
const std::vector<MetricFamilyDesc>& MetricFamilies();
const MetricFamilyDesc* FindMetricFamily(std::string_view name);

}  // namespace pgrt
