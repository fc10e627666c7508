// MetricsPage: the samples of one scrape, rendered in Prometheus's text format (0.0.4):
// HELP and TYPE once per family, the family's samples together, families in table order
// (families.h), label values escaped.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pgrt {

class MetricsPage {
 public:
  // `label_values` in the order of the family's labels. A family missing from the table or
  // a wrong number of labels is a programming error (asserted). A second sample with the
  // same labels is dropped: Prometheus rejects a page with duplicates.
  void Add(std::string_view family, std::vector<std::string> label_values, double value);
  // A histogram (MetricType::kHistogram) without labels: `bounds` ascending, `counts` per
  // bucket (not cumulative; observations above the last bound count only in `count`).
  void AddHistogram(std::string_view family, const std::vector<double>& bounds,
                    const std::vector<uint64_t>& counts, uint64_t count, double sum);
  // Parses `text` as a number first; a NULL/empty or unparsable value adds nothing.
  void AddText(std::string_view family, std::vector<std::string> label_values,
               const std::string& text);

  // Adds every sample of `other` (duplicates dropped as in Add).
  void Merge(const MetricsPage& other);

  std::string Render() const;
  size_t size() const { return count_; }

 private:
  struct Sample {
    std::vector<std::string> labels;
    double value;
    std::string suffix;  // histograms: _bucket (labels: le), _sum, _count
  };
  std::map<std::string, std::vector<Sample>, std::less<>> samples_;
  std::set<std::pair<std::string, std::vector<std::string>>> seen_;
  size_t count_ = 0;
};

// Label value escaping: backslash, double quote and line feed.
std::string EscapeLabelValue(std::string_view v);
// Numbers as Prometheus reads them: integers without exponent, NaN, +Inf, -Inf.
std::string FormatMetricValue(double v);

}  // namespace pgrt
