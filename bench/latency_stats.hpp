#pragma once
// Figures of one benchmark run, and how runs are summarised: percentiles by the nearest-rank
// method (the value below which P% of the samples fall, always an observed sample) and, across
// runs, the median of each figure, which one unlucky run cannot drag.
#include <chrono>
#include <cstddef>
#include <vector>

namespace tether::bench {

struct RunFigures {
  std::size_t requests = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double ops_per_second = 0;
};

// `latencies` must not be empty; `wall_time` is the run's duration, first request to last answer.
RunFigures summarize_run(std::vector<std::chrono::nanoseconds> latencies, std::chrono::nanoseconds wall_time);

// Figure by figure median of `runs` (must not be empty).
RunFigures median_of(const std::vector<RunFigures>& runs);

// Nearest-rank percentile of ascending `sorted` (not empty), percent in (0, 100].
std::chrono::nanoseconds percentile(const std::vector<std::chrono::nanoseconds>& sorted, double percent);

}  // namespace tether::bench
