// Measuring for core_bench: a stopwatch, samples with median and range,
// paired ratios, and the report's table lines. Benchmarks here are
// comparisons run in the same process, alternating, so every figure is
// printed beside the baseline it is judged against.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace casfs::bench {

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// One figure per round (a rate: bigger is better, or a time: smaller is).
class Samples {
 public:
  void Add(double v) { values_.push_back(v); }
  bool empty() const { return values_.empty(); }
  size_t size() const { return values_.size(); }
  const std::vector<double>& values() const { return values_; }
  double Median() const;
  double Min() const;
  double Max() const;

 private:
  std::vector<double> values_;
};

// a[i] / b[i] for each round: the ratio within a round, so a round where
// the machine was slow for both sides does not skew it.
Samples PairedRatios(const Samples& a, const Samples& b);

// How a figure is shown.
enum class Unit { kGBps, kOpsPerSecond, kMilliseconds };

// "  <label>  <median> <unit> [<min> .. <max>]".
void PrintFigure(const std::string& label, const Samples& samples, Unit unit);
// "  <label>  <median>x [<min> .. <max>]  target >= T: met|MISSED".
// Without a target, only the ratio.
void PrintRatio(const std::string& label, const Samples& ratios,
                std::optional<double> target = std::nullopt);
void PrintHeading(const std::string& text);
void PrintNote(const std::string& text);

}  // namespace casfs::bench
