// HTTP request counters and the Prometheus text rendering of all metrics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "actors/counters.hpp"
#include "http/routes.hpp"

namespace cqrs::http {

/// Requests served, by route and status. Lock-free, updated on every request.
class request_counters {
public:
  /// Counts one answered request.
  void count(route r, int status) noexcept {
    if (status < min_status || status > max_status)
      status = max_status;
    counts_[static_cast<size_t>(r)][status - min_status].fetch_add(
        1, std::memory_order_relaxed);
  }

  /// Returns how many requests to `r` were answered with `status`.
  uint64_t get(route r, int status) const noexcept {
    return counts_[static_cast<size_t>(r)][status - min_status].load(
        std::memory_order_relaxed);
  }

  static constexpr int min_status = 100;
  static constexpr int max_status = 599;

private:
  using row = std::array<std::atomic<uint64_t>, max_status - min_status + 1>;
  std::array<row, route_count> counts_{};
};

/// Renders every metric in the Prometheus text exposition format.
std::string render_metrics(const node_counters& node,
                           const request_counters& requests);

} // namespace cqrs::http
