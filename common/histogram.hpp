// Lock-free duration histograms with fixed buckets, exported on /metrics.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>

namespace cqrs {

/// Counts durations into buckets with fixed upper bounds, as a Prometheus
/// histogram. `observe` is wait-free and cheap enough for the hot read path:
/// a short scan over the bounds and two relaxed atomic adds, no lock, no
/// allocation. Totals are exact; a `read` concurrent with `observe` may miss
/// the newest observations.
class alignas(64) histogram {
public:
  /// The most finite bounds a histogram can have.
  static constexpr size_t max_bounds = 24;

  /// The state of a histogram at one moment, as Prometheus renders it.
  struct snapshot {
    /// Number of finite bounds in `upper_ns`.
    size_t bounds = 0;
    /// Upper bounds of the finite buckets (inclusive, `le`), ascending.
    std::array<int64_t, max_bounds> upper_ns{};
    /// Observations up to each bound, cumulative; element `bounds` is the
    /// `+Inf` bucket and equals `count`.
    std::array<uint64_t, max_bounds + 1> cumulative{};
    /// Sum of all observed durations in nanoseconds.
    uint64_t sum_ns = 0;

    /// Number of observations.
    uint64_t count() const noexcept { return cumulative[bounds]; }
  };

  /// Creates a histogram whose buckets end at `bounds` (inclusive), plus a
  /// `+Inf` bucket. Throws `std::invalid_argument` unless the bounds are 1 to
  /// `max_bounds` positive durations in strictly ascending order.
  histogram(std::initializer_list<std::chrono::nanoseconds> bounds) {
    if (bounds.size() == 0 || bounds.size() > max_bounds)
      throw std::invalid_argument("a histogram needs 1 to 24 bucket bounds");
    int64_t previous = 0;
    for (auto b : bounds) {
      if (b.count() <= previous)
        throw std::invalid_argument(
            "histogram bounds must be positive and strictly ascending");
      previous = upper_ns_[size_++] = b.count();
    }
  }

  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  /// Counts one observation of `d`; negative durations count as zero.
  void observe(std::chrono::nanoseconds d) noexcept {
    auto ns = d.count() > 0 ? d.count() : int64_t{0};
    size_t i = 0;
    while (i < size_ && ns > upper_ns_[i])
      ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
  }

  /// Counts the time since `start` on the steady clock.
  void observe_since(std::chrono::steady_clock::time_point start) noexcept {
    observe(std::chrono::steady_clock::now() - start);
  }

  /// Returns the current counts, with cumulative buckets.
  snapshot read() const noexcept {
    snapshot s;
    s.bounds = size_;
    s.upper_ns = upper_ns_;
    uint64_t total = 0;
    for (size_t i = 0; i <= size_; ++i) {
      total += buckets_[i].load(std::memory_order_relaxed);
      s.cumulative[i] = total;
    }
    s.sum_ns = sum_ns_.load(std::memory_order_relaxed);
    return s;
  }

private:
  size_t size_ = 0;
  std::array<int64_t, max_bounds> upper_ns_{};
  /// Observations per bucket, not cumulative; the last one is `+Inf`.
  std::array<std::atomic<uint64_t>, max_bounds + 1> buckets_{};
  std::atomic<uint64_t> sum_ns_{0};
};

} // namespace cqrs
