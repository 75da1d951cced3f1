// Counters the actors update and the gateway exports as metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "actors/histogram.hpp"

namespace cqrs {

/// Process-wide counters. Relaxed atomics: exact totals, no ordering.
struct node_counters {
  using counter = std::atomic<uint64_t>;
  /// Reads answered from a query actor's cache.
  counter cache_hits{0};
  /// Reads that needed a fill.
  counter cache_misses{0};
  /// Misses that joined a fill already in flight (single-flight).
  counter single_flight_merges{0};
  /// Fills answered but not cached because an invalidation overtook them.
  counter stale_fills_refused{0};
  /// Cache entries evicted by invalidations.
  counter invalidation_evictions{0};
  /// Invalidation batches applied, summed over the query actors: one batch
  /// has reached every actor once this grew by the number of actors.
  counter invalidations_applied{0};
  /// Cache entries evicted by the size bound.
  counter capacity_evictions{0};
  /// Committed write transactions' commands (one per seq).
  counter commits{0};
  /// Committed write transactions: `commits` over this is the average group
  /// commit size.
  counter write_transactions{0};
  /// The last seq the command actor committed.
  counter current_seq{0};
  /// The seq the node's hub has fanned out.
  counter applied_seq{0};
  /// Live query actors.
  counter query_actors{0};
  /// Query actors respawned by the supervisor.
  counter query_actor_restarts{0};
  /// Command actors respawned by the supervisor.
  counter command_actor_restarts{0};
  /// Commit ranges the hub read back from commit_log.
  counter catch_ups{0};
  /// Times the hub flushed the caches and sent reads to the database: lost
  /// command node, missed heartbeats or an unreadable commit_log.
  counter cache_flushes{0};
  /// 1 while the node is subscribed at its command node.
  counter command_node_linked{0};
  /// 1 while the command node refuses this node's link because it serves
  /// another domain (digest); the node then answers writes 503 and is not
  /// ready.
  counter domain_mismatch{0};
  /// 1 while query actors may cache; 0 while they read from the database.
  counter caches_in_use{0};

  // -- histograms -------------------------------------------------------------

  /// Cache fills, from the query actor asking the DB reader pool until the
  /// answer arrives (queueing in the pool included).
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
  /// From the commit of a batch (the command node's wall clock) until a query
  /// actor of this node applied its invalidation; one observation per batch
  /// and query actor.
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

  static uint64_t get(const counter& c) noexcept {
    return c.load(std::memory_order_relaxed);
  }
};

} // namespace cqrs
