// Counters the actors update and the gateway exports as metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/histogram.hpp"
#include "common/metrics.hpp"

namespace cqrs {

/// Process-wide counters: one member per row of `CQRSD_NODE_METRICS` and
/// `CQRSD_NODE_HISTOGRAMS`, and per view one per row of `CQRSD_VIEW_METRICS`
/// (common/metrics.hpp), which name and describe them. Relaxed atomics: exact
/// totals, no ordering.
struct node_counters {
  using counter = std::atomic<uint64_t>;

  /// Counters with room for `views` views, indexed like the served
  /// domain's `views`.
  explicit node_counters(size_t views = 0)
      : by_view(std::make_unique<view_reads[]>(views)), view_count(views) {
    // nop
  }

#define CQRSD_NODE_COUNTER(ID, TYPE, NAME, LABELS, HELP) counter ID{0};
  CQRSD_NODE_METRICS(CQRSD_NODE_COUNTER)
#undef CQRSD_NODE_COUNTER

  // -- by view ----------------------------------------------------------------

  /// One view's rows of `CQRSD_VIEW_METRICS`.
  struct view_reads {
#define CQRSD_VIEW_COUNTER(ID, TYPE, NAME, LABELS, HELP) counter ID{0};
    CQRSD_VIEW_METRICS(CQRSD_VIEW_COUNTER)
#undef CQRSD_VIEW_COUNTER
  };

  std::unique_ptr<view_reads[]> by_view;
  size_t view_count;

  /// A read of `view` that a cache answered.
  void hit(size_t view) noexcept {
    if (view < view_count)
      add(by_view[view].cache_hits);
  }

  /// A read of `view` that needed a fill.
  void miss(size_t view) noexcept {
    if (view < view_count)
      add(by_view[view].cache_misses);
  }

  /// `member` summed over the views, e.g. `total(&view_reads::cache_hits)`.
  uint64_t total(counter view_reads::*member) const noexcept {
    uint64_t sum = 0;
    for (size_t i = 0; i < view_count; ++i)
      sum += get(by_view[i].*member);
    return sum;
  }

  /// 1 while the command node refuses this node's link because it serves
  /// another domain (digest); the node then answers writes 503 and is not
  /// ready. Not exported: /readyz and /status tell it.
  counter domain_mismatch{0};

  // -- histograms -------------------------------------------------------------

  /// Buckets of `fill_duration`: queueing in the DB reader pool included.
  histogram fill_duration{
      std::chrono::microseconds{100},  std::chrono::microseconds{250},
      std::chrono::microseconds{500},  std::chrono::milliseconds{1},
      std::chrono::microseconds{2500}, std::chrono::milliseconds{5},
      std::chrono::milliseconds{10},   std::chrono::milliseconds{25},
      std::chrono::milliseconds{50},   std::chrono::milliseconds{100},
      std::chrono::milliseconds{250},  std::chrono::milliseconds{500},
      std::chrono::seconds{1},         std::chrono::milliseconds{2500},
      std::chrono::seconds{5},         std::chrono::seconds{10},
      std::chrono::seconds{30}};
  /// Buckets of `invalidation_lag`, from the command node's wall clock at
  /// commit; one observation per batch and query actor.
  histogram invalidation_lag{
      std::chrono::microseconds{10},   std::chrono::microseconds{25},
      std::chrono::microseconds{50},   std::chrono::microseconds{100},
      std::chrono::microseconds{250},  std::chrono::microseconds{500},
      std::chrono::milliseconds{1},    std::chrono::microseconds{2500},
      std::chrono::milliseconds{5},    std::chrono::milliseconds{10},
      std::chrono::milliseconds{25},   std::chrono::milliseconds{50},
      std::chrono::milliseconds{100},  std::chrono::milliseconds{250},
      std::chrono::milliseconds{500},  std::chrono::seconds{1},
      std::chrono::milliseconds{2500}, std::chrono::seconds{5},
      std::chrono::seconds{10}};

  static void add(counter& c, uint64_t n = 1) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }

  static void set(counter& c, uint64_t n) noexcept {
    c.store(n, std::memory_order_relaxed);
  }

  /// Sets `c` to `n` unless it holds more already: for gauges that only
  /// move forward but have more than one writer.
  static void raise(counter& c, uint64_t n) noexcept {
    auto current = c.load(std::memory_order_relaxed);
    while (current < n &&
           !c.compare_exchange_weak(current, n, std::memory_order_relaxed)) {
      // `current` now holds the value another writer stored; try again.
    }
  }

  static uint64_t get(const counter& c) noexcept {
    return c.load(std::memory_order_relaxed);
  }
};

} // namespace cqrs
