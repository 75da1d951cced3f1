// The query actor: answers reads from a private read-through cache.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/counters.hpp"
#include "actors/fault_hooks.hpp"
#include "actors/interfaces.hpp"
#include "actors/query_cache.hpp"

namespace cqrs {

/// What a query actor is told at spawn.
struct query_actor_config {
  /// Position in the supervisor's routing table.
  uint32_t index = 0;
  bool cache_enabled = true;
  size_t cache_max_entries = 100000;
  /// Read again at once the entries a write evicts after they were read
  /// (`query.refresh_on_invalidation`; actors/query_cache.hpp, "Refresh").
  bool refresh_on_invalidation = false;
  /// How long a read may wait for its `X-Min-Seq`.
  caf::timespan min_seq_timeout = std::chrono::seconds{1};
  /// How long a fill may take before its waiters get an error.
  caf::timespan fill_timeout = std::chrono::seconds{30};
  /// Shared counters; never null.
  std::shared_ptr<node_counters> counters;
  /// The cache, shared with the HTTP threads that answer hits from it and
  /// with the hub that applies batches to it; created with `cache_enabled`
  /// and `refresh_on_invalidation`.
  /// The actor creates its own when null. A respawned actor gets a new one.
  std::shared_ptr<shared_query_cache> cache;
  /// Makes the actor's fault in a testing build; null in the product.
  fault_injector_ptr faults;
};

struct query_actor_state {
  static inline constexpr const char* name = "query_actor";

  using promise_type = caf::typed_response_promise<read_answer>;

  /// A read waiting for a fill.
  struct waiter {
    promise_type promise;
    seq_t min_seq = 0;
    /// When a read with `X-Min-Seq` gives up on snapshots that are too old
    /// (a lagging read replica) and answers 504.
    caf::actor_clock::time_point deadline;
  };

  /// A fill on the DB reader pool and the reads waiting for it.
  struct fill_in_flight {
    query q;
    std::vector<waiter> waiters;
    /// What the cache looked like when the fill started.
    shared_query_cache::fill_ticket ticket;
  };

  query_actor_config cfg;
  reader_actor reader;
  /// Shared with the HTTP threads and the hub, which applies every batch to
  /// it directly; its `applied_seq` is this actor's.
  std::shared_ptr<shared_query_cache> cache;
  std::unordered_map<std::string, fill_in_flight> fills;
  /// Makes the keys of fills unique when the cache is off.
  uint64_t next_uncached_fill = 0;
  /// Reads whose fill came back older than their `X-Min-Seq` (a lagging
  /// read replica), waiting for a retry, by fill key.
  std::unordered_map<std::string, std::pair<query, std::vector<waiter>>>
      retries;
  /// Reads waiting for the hub to reach their `X-Min-Seq`, by ticket.
  std::unordered_map<uint64_t, std::pair<read_request, promise_type>> parked;
  uint64_t next_ticket = 0;
  /// Asked about each read; null unless a testing build injects a fault.
  std::unique_ptr<read_fault> fault;

  query_actor_state();

  /// Closes the cache and fails every read still waiting, so no requester
  /// hangs on a dead actor and no HTTP thread hits a cache that no longer
  /// sees invalidations.
  ~query_actor_state();

  // -- reads ------------------------------------------------------------------

  /// Adds `w` to the fill for `req.key`, joining one in flight when the
  /// cache is on (single-flight). Returns the key of a new fill that the
  /// caller must start, or nothing when `w` joined a fill in flight.
  std::optional<std::string> enqueue(const read_request& req, waiter w);

  /// Registers a fill of `q` under `key` that no read waits for yet: an
  /// entry read again after a write evicted it. Returns false, doing
  /// nothing, when a fill of `key` is in flight already.
  bool enqueue_refresh(const std::string& key, const query& q);

  /// Registers a new fill of `q` under `key`, with no reads waiting yet,
  /// and returns it; no fill of `key` may be in flight.
  fill_in_flight& add_fill(const std::string& key, const query& q);

  // -- fills ------------------------------------------------------------------

  /// Completes the fill for `key`: caches it unless a batch applied since
  /// its snapshot touched it, answers waiters whose `X-Min-Seq` it satisfies
  /// and returns the others, which need a newer fill.
  std::vector<waiter> complete_fill(const std::string& key, fill_result& r);

  /// Fails every waiter of the fill for `key`.
  void fail_fill(const std::string& key, const caf::error& err);
};

using query_actor_ptr = query_actor::stateful_pointer<query_actor_state>;

/// Spawnable behaviour of a query actor. It subscribes its cache to `hub` at
/// start and sends cache fills to `reader`.
query_actor::behavior_type query_actor_impl(query_actor_ptr self,
                                            query_actor_config cfg,
                                            reader_actor reader, hub_actor hub);

} // namespace cqrs
