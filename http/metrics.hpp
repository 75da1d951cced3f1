// HTTP request counters and the Prometheus text rendering of all metrics.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
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

/// What the gateway's overload protection did. Lock-free.
struct overload_counters {
  /// Connections answered 503 at once because every worker thread was busy
  /// and `http.max_queued_connections` connections were waiting.
  std::atomic<uint64_t> shed_connections{0};
  /// Requests answered 503 because `http.max_in_flight` were in flight.
  std::atomic<uint64_t> shed_requests{0};
  /// Requests that did not arrive within `http.read_timeout_ms` (408).
  std::atomic<uint64_t> read_timeouts{0};
  /// Requests refused for an over-long request line or headers (414, 431).
  std::atomic<uint64_t> header_too_large{0};
  /// Connections a worker thread serves right now.
  std::atomic<uint64_t> connections{0};
  /// Accepted connections waiting for a worker thread right now.
  std::atomic<uint64_t> queued_connections{0};
  /// Requests being handled right now, health probes aside.
  std::atomic<uint64_t> in_flight{0};

  /// Returns true at most once per `interval`, to rate-limit the warnings
  /// about shed load.
  bool warning_due(std::chrono::steady_clock::duration interval =
                       std::chrono::seconds{10}) noexcept {
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto last = last_warning_.load(std::memory_order_relaxed);
    if (last != 0 && now - last < interval.count())
      return false;
    return last_warning_.compare_exchange_strong(last, now);
  }

private:
  std::atomic<std::chrono::steady_clock::rep> last_warning_{0};
};

/// Renders every metric in the Prometheus text exposition format.
std::string render_metrics(const node_counters& node,
                           const request_counters& requests,
                           const overload_counters& overload);

} // namespace cqrs::http
