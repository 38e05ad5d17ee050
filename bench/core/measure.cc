#include "bench/core/measure.h"

#include <algorithm>
#include <cstdio>

namespace casfs::bench {

double Samples::Median() const {
  if (values_.empty()) return 0;
  std::vector<double> sorted = values_;
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

double Samples::Min() const {
  return values_.empty() ? 0 : *std::min_element(values_.begin(), values_.end());
}

double Samples::Max() const {
  return values_.empty() ? 0 : *std::max_element(values_.begin(), values_.end());
}

Samples PairedRatios(const Samples& a, const Samples& b) {
  Samples ratios;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (b.values()[i] > 0) ratios.Add(a.values()[i] / b.values()[i]);
  }
  return ratios;
}

namespace {

constexpr int kLabelWidth = 52;

void PrintScaled(double v, Unit unit) {
  switch (unit) {
    case Unit::kGBps: std::printf("%.3f", v / 1e9); break;
    case Unit::kOpsPerSecond: std::printf("%.0f", v); break;
    case Unit::kMilliseconds: std::printf("%.2f", v * 1e3); break;
  }
}

const char* UnitName(Unit unit) {
  switch (unit) {
    case Unit::kGBps: return "GB/s";
    case Unit::kOpsPerSecond: return "ops/s";
    case Unit::kMilliseconds: return "ms";
  }
  return "";
}

}  // namespace

void PrintFigure(const std::string& label, const Samples& samples, Unit unit) {
  std::printf("  %-*s ", kLabelWidth, label.c_str());
  PrintScaled(samples.Median(), unit);
  std::printf(" %s [", UnitName(unit));
  PrintScaled(samples.Min(), unit);
  std::printf(" .. ");
  PrintScaled(samples.Max(), unit);
  std::printf("]  (n=%zu)\n", samples.size());
}

void PrintRatio(const std::string& label, const Samples& ratios, std::optional<double> target) {
  std::printf("  %-*s %.3fx [%.3f .. %.3f]", kLabelWidth, label.c_str(), ratios.Median(),
              ratios.Min(), ratios.Max());
  if (target) {
    std::printf("  target >= %.2f: %s", *target, ratios.Median() >= *target ? "met" : "MISSED");
  }
  std::printf("\n");
}

void PrintHeading(const std::string& text) { std::printf("\n%s\n", text.c_str()); }

void PrintNote(const std::string& text) { std::printf("  # %s\n", text.c_str()); }

}  // namespace casfs::bench
