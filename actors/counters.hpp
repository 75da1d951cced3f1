// Counters the actors update and the gateway exports as metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "common/histogram.hpp"
#include "common/metrics.hpp"

namespace cqrs {

/// Process-wide counters: one member per row of `CQRSD_NODE_METRICS` and
/// `CQRSD_NODE_HISTOGRAMS` (common/metrics.hpp), which name and describe
/// them. Relaxed atomics: exact totals, no ordering.
struct node_counters {
  using counter = std::atomic<uint64_t>;

#define CQRSD_NODE_COUNTER(ID, TYPE, NAME, LABELS, HELP) counter ID{0};
  CQRSD_NODE_METRICS(CQRSD_NODE_COUNTER)
#undef CQRSD_NODE_COUNTER

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
