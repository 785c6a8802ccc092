#include "bench/latency_stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tether::bench {
namespace {

double to_ms(std::chrono::nanoseconds duration) { return std::chrono::duration<double, std::milli>(duration).count(); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

}  // namespace

std::chrono::nanoseconds percentile(const std::vector<std::chrono::nanoseconds>& sorted, double percent) {
  if (sorted.empty()) throw std::invalid_argument("percentile of no samples");
  const auto rank = static_cast<std::size_t>(std::ceil(percent / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

RunFigures summarize_run(std::vector<std::chrono::nanoseconds> latencies, std::chrono::nanoseconds wall_time) {
  if (latencies.empty()) throw std::invalid_argument("a run without requests has no figures");
  std::sort(latencies.begin(), latencies.end());
  RunFigures figures;
  figures.requests = latencies.size();
  figures.p50_ms = to_ms(percentile(latencies, 50));
  figures.p99_ms = to_ms(percentile(latencies, 99));
  figures.max_ms = to_ms(latencies.back());
  const double seconds = std::chrono::duration<double>(wall_time).count();
  figures.ops_per_second = seconds > 0 ? static_cast<double>(latencies.size()) / seconds : 0;
  return figures;
}

RunFigures median_of(const std::vector<RunFigures>& runs) {
  if (runs.empty()) throw std::invalid_argument("median of no runs");
  auto figure = [&runs](double RunFigures::*field) {
    std::vector<double> values;
    for (const auto& run : runs) values.push_back(run.*field);
    return median(std::move(values));
  };
  RunFigures result;
  result.requests = runs.front().requests;
  result.p50_ms = figure(&RunFigures::p50_ms);
  result.p99_ms = figure(&RunFigures::p99_ms);
  result.max_ms = figure(&RunFigures::max_ms);
  result.ops_per_second = figure(&RunFigures::ops_per_second);
  return result;
}

}  // namespace tether::bench
