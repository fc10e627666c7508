#include "metrics/exposition.h"

#include <fmt/format.h>

#include <cassert>
#include <cmath>
#include <cstdlib>

#include "metrics/families.h"

namespace pgrt {
namespace {

std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::trunc(v) && std::fabs(v) < 1e15) return fmt::format("{:.0f}", v);
  return fmt::format("{}", v);
}

void MetricsPage::Add(std::string_view family, std::vector<std::string> label_values,
                      double value) {
  const MetricFamilyDesc* desc = FindMetricFamily(family);
  assert(desc != nullptr && desc->labels.size() == label_values.size());
  if (desc == nullptr || desc->labels.size() != label_values.size()) return;
  if (!seen_.emplace(std::string(family), label_values).second) return;
  samples_[std::string(family)].push_back({std::move(label_values), value});
  ++count_;
}

void MetricsPage::AddText(std::string_view family, std::vector<std::string> label_values,
                          const std::string& text) {
  if (text.empty()) return;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0') return;
  Add(family, std::move(label_values), v);
}

void MetricsPage::AddHistogram(std::string_view family, const std::vector<double>& bounds,
                               const std::vector<uint64_t>& counts, uint64_t count, double sum) {
  const MetricFamilyDesc* desc = FindMetricFamily(family);
  assert(desc != nullptr && desc->type == MetricType::kHistogram && desc->labels.empty());
  if (desc == nullptr || !seen_.emplace(std::string(family), std::vector<std::string>{}).second)
    return;
  auto& out = samples_[std::string(family)];
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size() && i < counts.size(); ++i) {
    cumulative += counts[i];
    out.push_back({{FormatMetricValue(bounds[i])}, static_cast<double>(cumulative), "_bucket"});
  }
  out.push_back({{"+Inf"}, static_cast<double>(count), "_bucket"});
  out.push_back({{}, sum, "_sum"});
  out.push_back({{}, static_cast<double>(count), "_count"});
  count_ += out.size();
}

void MetricsPage::Merge(const MetricsPage& other) {
  for (const auto& [family, samples] : other.samples_)
    for (const Sample& s : samples) {
      if (!s.suffix.empty()) {  // a histogram comes whole
        if (seen_.emplace(family, std::vector<std::string>{}).second) samples_[family] = samples;
        break;
      }
      Add(family, s.labels, s.value);
    }
}

std::string MetricsPage::Render() const {
  std::string out;
  for (const MetricFamilyDesc& f : MetricFamilies()) {
    auto it = samples_.find(f.name);
    if (it == samples_.end()) continue;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, EscapeHelp(f.help), f.name,
                       ToString(f.type));
    for (const Sample& s : it->second) {
      out += f.name;
      out += s.suffix;
      if (!s.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < s.labels.size(); ++i) {
          if (i > 0) out += ',';
          const char* name = s.suffix == "_bucket" ? "le" : f.labels[i];
          out += fmt::format("{}=\"{}\"", name, EscapeLabelValue(s.labels[i]));
        }
        out += '}';
      }
      out += ' ';
      out += FormatMetricValue(s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace pgrt
