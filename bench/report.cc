#include "report.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "harness/harness.h"

namespace pgrt::bench {
namespace {

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Samples are seconds or kB; shown as "0.812s" or "6.1MB".
std::string Value(double v, const char* unit) {
  if (std::isnan(v)) return "n/a";
  if (std::string(unit) == "MB") return Fmt("%.1fMB", v / 1024.0);
  return Fmt("%.3fs", v);
}

std::string PostgresVersion() {
  std::string cmd = testing::PgBinDir() + "/postgres --version 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "unknown";
  char buf[128] = {};
  std::string out = std::fgets(buf, sizeof buf, p) ? buf : "unknown";
  ::pclose(p);
  // "postgres (PostgreSQL) 15.6 (Debian 15.6-0+deb12u1)": the word after "(PostgreSQL)".
  const std::string tag = "(PostgreSQL) ";
  size_t at = out.find(tag);
  if (at == std::string::npos) return "unknown";
  out = out.substr(at + tag.size());
  return out.substr(0, out.find_first_of(" \n"));
}

}  // namespace

double Median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double PairedRatio(const Samples& s) {
  std::vector<double> ratios;
  for (size_t i = 0; i < s.pgrt.size() && i < s.baseline.size(); ++i)
    if (s.baseline[i] > 0) ratios.push_back(s.pgrt[i] / s.baseline[i]);
  return Median(ratios);
}

std::string FormatFigure(const FigureSpec& f) {
  const double p = Median(f.samples->pgrt);
  const double b = Median(f.samples->baseline);
  const double ratio = PairedRatio(*f.samples);
  std::string line = f.name;
  line.resize(std::max<size_t>(line.size(), 21), ' ');
  line += "  pgrt=" + Value(p, f.unit) + "  baseline=" + Value(b, f.unit) +
          "  ratio=" + (std::isnan(ratio) ? "n/a " : Fmt("%.2f", ratio));
  // Judged on the ratio, or on pgrt's own value (targets in MB, samples in kB).
  double judged = ratio;
  double target = f.target;
  if (f.judge == Judge::kRatio) {
    line += "  target<=" + Fmt("%.2f", f.target);
  } else {
    judged = p;
    if (std::string(f.unit) == "MB") target *= 1024.0;
    line += "  target<=" + Value(target, f.unit);
  }
  if (std::isnan(judged)) return line + "  ERROR";
  return line + (judged <= target ? "  OK" : "  MISS");
}

std::string FormatRuns(const FigureSpec& f) {
  auto list = [&](const std::vector<double>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s += " ";
      s += std::string(f.unit) == "MB" ? Fmt("%.1f", v[i] / 1024.0) : Fmt("%.3f", v[i]);
    }
    return s + "]";
  };
  return "    runs pgrt=" + list(f.samples->pgrt) + "  baseline=" + list(f.samples->baseline);
}

std::string FormatPhases(const std::string& title,
                         const std::map<std::string, std::vector<double>>& phases) {
  // In the order pgrt goes through them; unknown phases after.
  static const char* kOrder[] = {"validate", "initdb", "setup", "prepare", "ready", "startup"};
  std::string line = "    " + title + ":";
  std::vector<std::string> seen;
  for (const char* name : kOrder) {
    auto it = phases.find(name);
    if (it == phases.end()) continue;
    line += " " + it->first + "=" + Fmt("%.3f", Median(it->second));
    seen.push_back(name);
  }
  for (const auto& [name, v] : phases) {
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    line += " " + name + "=" + Fmt("%.3f", Median(v));
  }
  return line;
}

int RepsFromEnv(int fallback, int max) {
  const char* env = std::getenv("PGRT_BENCH_REPS");
  int n = env ? std::atoi(env) : fallback;
  return std::max(1, std::min(max, n));
}

std::string MachineLine() {
  utsname u{};
  ::uname(&u);
  return "nproc=" + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + "  kernel=" + u.release +
         "  arch=" + u.machine + "  postgres=" + PostgresVersion();
}

}  // namespace pgrt::bench
