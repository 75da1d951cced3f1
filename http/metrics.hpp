// HTTP request counters and the Prometheus text rendering of all metrics.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "actors/counters.hpp"
#include "common/histogram.hpp"
#include "common/metrics.hpp"
#include "http/routes.hpp"

namespace cqrs::http {

/// The request methods metrics tell apart; `other` collects the rest.
enum class method : uint8_t {
  get,
  head,
  post,
  put,
  del,
  patch,
  options,
  other,
};

inline constexpr size_t method_count = static_cast<size_t>(method::other) + 1;

/// The method named `name`, e.g. "GET".
method to_method(std::string_view name) noexcept;

/// The method's name as a metrics label, e.g. "GET".
std::string_view label(method m) noexcept;

/// How long the gateway took to answer a request, from its handler's start
/// until the response is ready: 50 µs to 10 s.
class request_duration : public histogram {
public:
  request_duration();
};

/// Requests served, by route and status, and their durations by route and
/// method. Routes are the indexes of the node's `route_table`. Lock-free,
/// updated on every request.
class request_counters {
public:
  /// Counters for `routes` routes.
  explicit request_counters(size_t routes)
      : counts_(routes), durations_(routes) {
    // nop
  }

  /// How many routes are counted.
  size_t routes() const noexcept { return counts_.size(); }

  /// Counts one answered request.
  void count(uint16_t route, int status) noexcept {
    if (status < min_status || status > max_status)
      status = max_status;
    counts_[route][status - min_status].fetch_add(1, std::memory_order_relaxed);
  }

  /// Returns how many requests to `route` were answered with `status`.
  uint64_t get(uint16_t route, int status) const noexcept {
    return counts_[route][status - min_status].load(std::memory_order_relaxed);
  }

  /// Counts how long a request to `route` with method `m` took.
  void observe(uint16_t route, method m,
               std::chrono::nanoseconds elapsed) noexcept {
    durations_[route][static_cast<size_t>(m)].observe(elapsed);
  }

  /// Returns the durations of requests to `route` with method `m`.
  histogram::snapshot durations(uint16_t route, method m) const noexcept {
    return durations_[route][static_cast<size_t>(m)].read();
  }

  static constexpr int min_status = 100;
  static constexpr int max_status = 599;

private:
  using row = std::array<std::atomic<uint64_t>, max_status - min_status + 1>;
  std::vector<row> counts_;
  std::vector<std::array<request_duration, method_count>> durations_;
};

/// What the gateway's overload protection did: one member per row of
/// `CQRSD_OVERLOAD_METRICS` (common/metrics.hpp), which names and describes
/// them, and the two samples of `cqrsd_http_shed_total`. Lock-free.
struct overload_counters {
  /// Connections answered 503 at once because every worker thread was busy
  /// and `http.max_queued_connections` connections were waiting
  /// (`reason="queue_full"`).
  std::atomic<uint64_t> shed_connections{0};
  /// Requests answered 503 because `http.max_in_flight` were in flight
  /// (`reason="in_flight"`).
  std::atomic<uint64_t> shed_requests{0};

#define CQRSD_OVERLOAD_COUNTER(ID, TYPE, NAME, LABELS, HELP)                   \
  std::atomic<uint64_t> ID{0};
  CQRSD_OVERLOAD_METRICS(CQRSD_OVERLOAD_COUNTER)
#undef CQRSD_OVERLOAD_COUNTER

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

/// Writes `h` as the Prometheus samples of histogram `name` in seconds:
/// cumulative `_bucket`s up to `le="+Inf"`, `_sum` and `_count`, each with
/// `labels` (e.g. `route="/healthz"`, or empty).
void render_histogram(std::ostream& out, std::string_view name,
                      std::string_view labels, const histogram::snapshot& h);

/// Renders every metric in the Prometheus text exposition format; `d` is
/// the served domain, whose view segments label the counters by view.
std::string render_metrics(const domain& d, const node_counters& node,
                           const route_table& routes,
                           const request_counters& requests,
                           const overload_counters& overload);

} // namespace cqrs::http
